export { runMailroomCli, USAGE, type MailroomCliIo } from './run-cli.js';
export {
  runRetrain,
  loadCorrections,
  retrainFromCorrections,
  type Correction,
  type RetrainOptions,
  type RetrainReport,
} from './retrain.js';
