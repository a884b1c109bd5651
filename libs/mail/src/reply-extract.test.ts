import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractReply } from './reply-extract.js';
import { DATA_DIR, listFiles } from './test-support/fixtures.js';

const COMMON =
  'Fusce bibendum, quam hendrerit sagittis tempor, dui turpis tempus erat, pharetra sodales ante sem sit amet metus.\n' +
  'Nulla malesuada, orci non vulputate lobortis, massa felis pharetra ex, convallis consectetur ex libero eget ante.\n' +
  'Nam vel turpis posuere, rhoncus ligula in, venenatis orci. Duis interdum venenatis ex a rutrum.\n' +
  'Duis ut libero eu lectus consequat consequat ut vel lorem. Vestibulum convallis lectus urna,\n' +
  'et mollis ligula rutrum quis. Fusce sed odio id arcu varius aliquet nec nec nibh.';

interface Expectation {
  equals?: string;
  includes?: string[];
  excludes?: string[];
  startsWith?: string;
  quoted?: boolean;
}

// Expected replies as stated by the source repositories' own tests:
// crisp-oss/email-reply-parser test/test.js (first fragment / visible text) and
// zapier/email-reply-parser test/test_email_reply_parser.py (plus github/email_reply_parser
// for the shared fixtures). Fixtures whose tests only count fragments are listed with
// the content assertion those tests make.
const COMMON_FIRST = [
  'email_7',
  'email_8',
  'email_9',
  'email_10',
  'email_11',
  'email_12',
  'email_13',
  'email_14',
  'email_15',
  'email_16',
  'email_17',
  'email_18',
  'email_22',
  'email_23',
  'email_24',
  'email_25',
  'email_26',
  'email_portuguese',
  'email_german',
  'email_german_2',
  'email_german_3',
  'email_german_outlook',
  'email_norwegian_gmail',
  'email_finnish',
  'email_italian',
  'email_russian',
  'email_outlook_split_line_from',
  'email_gmail_split_line_from',
  'email_ios_outlook_fr',
  'email_ios_outlook',
  'email_msn',
  'email_fr_multiline',
  'email_french_2',
  'email_en_multiline_2',
  'email_original_message',
  'email_original_message_2',
  'email_danish_dash_separator',
  'email_french_dash_separator',
  'email_tricky_5_mixed_languages',
  'email_tricky_10_special_chars_in_name',
  'email_tricky_12_no_space_after_header',
  'email_tricky_14_long_quote_header',
  'email_tricky_15_original_message_variations',
];

const CRISP: Record<string, Expectation> = {
  ...Object.fromEntries(COMMON_FIRST.map((n) => [n, { equals: COMMON }])),
  email_1: { startsWith: 'Hi folks\n\nWhat is the best way', excludes: ['riak-users'] },
  email_2: { startsWith: 'Hi,', includes: ['You can list the keys'] },
  email_3: {
    startsWith: 'Oh thanks.\n\nHaving the function would be great.',
    excludes: ['Russell Brown'],
  },
  email_4: { startsWith: 'Awesome', excludes: ['Loader'] },
  email_6: { startsWith: 'I get', excludes: ['Was this'] },
  correct_sig: { equals: 'this is an email with a correct -- signature.' },
  sig_no_empty_line: { equals: 'this is an email with a signature with no empty line above.' },
  email_one_is_not_on: { includes: ['One outstanding question'], excludes: ['On Oct 1, 2012'] },
  email_sent_from: {
    equals:
      'Hi it can happen to any texts you type, as long as you type in between words or paragraphs.',
  },
  email_emoji: { equals: '🎉\n\n—\nJohn Doe\nCEO at Pandaland\n\n@pandaland' },
  email_not_a_signature: { includes: ['Service Expire Date Description'], quoted: false },
  email_not_a_signature_2: {
    includes: ['-- and also third point', 'I hope you can check it'],
    quoted: false,
  },
  email_zoho: {
    equals: 'What is the best way to clear a Riak bucket of all key, values after\nrunning a test?',
  },
  email_with_regards: { equals: 'Hi,\n\nI still have the same problem....\n\nCan you help?' },
  email_reply_header: { includes: ['On the other hand'], excludes: ['On Wed, Dec 9', 'mrmister'] },
  email_tricky_1_on_false_positive: { includes: ['On a separate note'], quoted: false },
  email_tricky_2_url_with_wrote: { includes: ['Check out this article', 'https://example.com'] },
  email_tricky_3_code_block: { includes: ['function sendEmail'] },
  email_tricky_6_regards_in_sentence: {
    includes: ['with regards to the payment', 'should be visible'],
  },
  email_tricky_7_multiple_dashes: { includes: ['Key Points', 'just separators in my content'] },
  email_tricky_8_sent_from_in_content: { includes: ['sent from my iPhone app', 'main server'] },
  email_tricky_9_nested_quotes: { startsWith: 'I agree with the points' },
  email_tricky_11_double_signature: { startsWith: 'Thanks for your help' },
  email_tricky_13_timestamp_variations: {
    includes: ['different timestamp formats', 'not quote headers'],
    quoted: false,
  },
  email_tricky_16_unicode_signatures: { startsWith: 'Thanks for the update' },
  email_tricky_17_forward_header: { startsWith: 'See the forwarded message' },
  email_tricky_19_quote_without_header: { startsWith: 'I wanted to respond' },
  email_tricky_20_html_entities: { includes: ['&gt; 100 and &lt; 200'] },
};

const ZAPIER: Record<string, Expectation> = {
  email_1_1: { includes: ['folks'], excludes: ['riak-users'] },
  email_1_2: { includes: ['You can list the keys for the bucket'] },
  email_1_3: { startsWith: 'Oh thanks.\n\nHaving the function would be great.' },
  email_1_4: { includes: ['Awesome'], excludes: ['Loader'] },
  email_1_6: { includes: ['I get'], excludes: ['Sent'] },
  email_1_7: { includes: [':+1:'], excludes: ['Steps 0-2'] },
  correct_sig: { equals: 'this is an email with a correct -- signature.' },
  email_2_1: { equals: 'Outlook with a reply' },
  email_2_2: { equals: 'Outlook with a reply directly above line' },
  email_2_3: { equals: 'Outlook with a reply above headers using unusual format' },
  email_iPhone: { equals: 'Here is another email' },
  email_BlackBerry: { equals: 'Here is another email' },
  email_multi_word_sent_from_my_mobile_device: { equals: 'Here is another email' },
  email_sent_from_my_not_signature: {
    equals: 'Here is another email\n\nSent from my desk, is much easier then my mobile phone.',
  },
  email_bullets: {
    equals:
      'test 2 this should list second\n\nand have spaces\n\nand retain this formatting\n\n\n   - how about bullets\n   - and another',
  },
  email_one_is_not_on: { excludes: ['On Oct 1, 2012, at 11:55 PM, Dave Tapley wrote:'] },
  email_gmail: { excludes: ['xxx@gmail.com'] },
  email_partial_quote_header: {
    includes: [
      'On your remote host you can run:',
      'telnet 127.0.0.1 52698',
      'This should connect to TextMate',
    ],
  },
  email_headers_no_delimiter: { equals: 'And another reply!' },
  email_sig_delimiter_in_middle_of_line: {
    includes: ['And here is a fix -- this is not a signature.', 'kthxbai'],
  },
  greedy_on: { startsWith: 'On your remote host', excludes: ['On 9 Jan 2014'] },
};

function check(reply: ReturnType<typeof extractReply>, exp: Expectation): string[] {
  const failures: string[] = [];
  if (exp.equals !== undefined && reply.reply !== exp.equals)
    failures.push(`expected ${JSON.stringify(exp.equals)}`);
  if (exp.startsWith && !reply.reply.startsWith(exp.startsWith))
    failures.push(`should start ${exp.startsWith}`);
  for (const s of exp.includes ?? []) if (!reply.reply.includes(s)) failures.push(`missing ${s}`);
  for (const s of exp.excludes ?? [])
    if (reply.reply.includes(s)) failures.push(`should not contain ${s}`);
  if (exp.quoted !== undefined && reply.quoted !== exp.quoted)
    failures.push(`quoted should be ${exp.quoted}`);
  return failures;
}

describe('extractReply on the crisp and zapier fixtures', () => {
  const cases = [
    ...Object.entries(CRISP).map(([name, exp]) => ({ file: `crisp/${name}.txt`, exp })),
    ...Object.entries(ZAPIER).map(([name, exp]) => ({ file: `zapier/${name}.txt`, exp })),
  ];

  it('extracts the expected reply for every fixture with a known expectation', () => {
    const failed: Record<string, string[]> = {};
    for (const { file, exp } of cases) {
      const f = check(extractReply(readFileSync(`${DATA_DIR}/mail/replies/${file}`, 'utf8')), exp);
      if (f.length) failed[file] = f;
    }
    console.info(
      `reply fixtures: ${cases.length - Object.keys(failed).length}/${cases.length} pass`,
    );
    expect(failed).toEqual({});
  });

  it('handles the pathological fixture quickly', () => {
    const started = Date.now();
    extractReply(readFileSync(`${DATA_DIR}/mail/replies/zapier/pathological.txt`, 'utf8'));
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('extractReply', () => {
  it('reports quote and signature removal', () => {
    const r = extractReply(
      'Thanks, works now.\n\n-- \nAnn\n\nOn Tue, 1 Jul 2025, Support wrote:\n> Did a restart help?\n',
    );
    expect(r).toEqual({ reply: 'Thanks, works now.', quoted: true, signatureRemoved: true });
  });

  it('cuts Outlook header blocks in other languages', () => {
    const r = extractReply(
      'Danke!\r\n\r\nVon: Support <support@example.test>\r\nGesendet: Montag, 1. Juli 2025\r\nAn: Ann\r\nBetreff: Drucker\r\n\r\nalter Text',
    );
    expect(r.reply).toBe('Danke!');
    expect(r.quoted).toBe(true);
  });

  it('leaves a plain message alone', () => {
    expect(extractReply('Just a question about my invoice.')).toEqual({
      reply: 'Just a question about my invoice.',
      quoted: false,
      signatureRemoved: false,
    });
  });

  it('gives with its shortcut for unquoted mail what the library path gives', () => {
    const texts = [
      'Hello,\n\nthe printer on floor 3 is jammed.\n',
      '\n  Leading blank line, trailing spaces   \n\t\nsecond paragraph\t \n\n',
      'Short.\r\nWindows line ends.\r\n\r\nRegards,\r\nAnn',
      'Question\n\nCheers,\nBob',
      'Question\nSent from my iPhone',
      'Question\n  > indented quote\n',
      'Question\n-- \nAnn',
      'Question\n--\nAnn',
      'Question\n12:30, 1 July 2025, "Ann" <a@b.test>:\n',
      'Question\nAnn on Tue at 10 wrote:\nold',
      'Question\n-----Original Message-----  \nold',
      'Question\nFrom: Ann <a@b.test>\nold',
      'Question\n\nOn Tue, 1 Jul 2025, Ann\nwrote:\nold',
      'Question\nAm Dienstag schrieb Ann\nalt',
      'Question\n\nLe mardi 1 juillet, Ann a écrit\nancien',
      'Question\n__________\nFROM : Ann\nSENT : Tuesday\nold',
      'No colon, no dashes, no quote header at all.\nSecond line.',
      '   \n\n ',
      '',
    ];
    for (const file of listFiles(`${DATA_DIR}/mail/replies`, (n) => n.endsWith('.txt'))) {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      texts.push(text, ...lines.slice(0, 40).map((_, i) => lines.slice(0, i + 1).join('\n')));
    }
    for (const text of texts) {
      expect(extractReply(text), JSON.stringify(text.slice(0, 200))).toEqual(
        extractReply(text, { shortcut: false }),
      );
    }
  });
});
