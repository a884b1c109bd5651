// The V8 sampling profiler of the bench's own thread, for the benches' --profile options.

/** Starts the profiler now; stop(file) writes the profile and says so, naming `what`. */
export async function startProfile(what: string) {
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    stop: async (file: string) => {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
      console.log(`CPU profile of ${what}: ${file}`);
    },
  };
}
