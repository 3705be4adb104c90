// The pages' message catalogues: every error code and refusal reason the API gives has a
// sentence in every language, the languages have the same keys, and numbers, money, dates,
// durations and relative times follow the chosen language through Intl.
import t from 'tap';
import { ALERT_KIND_NAMES } from '../../../cloud-lite/alerts/kinds.js';
import { API_ERRORS, REFUSAL_REASONS } from '../../../cloud-lite/error-codes.js';
import { en } from '../../../cloud-lite/web/src/i18n/en.js';
import {
  LANGUAGES,
  type Language,
  language,
  pickLanguage,
  setLanguage,
  t as tr,
} from '../../../cloud-lite/web/src/i18n/i18n.js';
import { zhCN } from '../../../cloud-lite/web/src/i18n/zh-cn.js';
import { ApiError, describeError, sentenceFor } from '../../../cloud-lite/web/src/lib/errors.js';
import {
  formatBytes,
  formatClock,
  formatDateTime,
  formatDistance,
  formatDuration,
  formatMoney,
  formatRelative,
  getHubCurrency,
  setHubCurrency,
} from '../../../cloud-lite/web/src/lib/format.js';
import { commandSentence, commandStateText } from '../../../cloud-lite/web/src/ops/command-text.js';

const CODES = [...Object.keys(API_ERRORS), ...Object.keys(REFUSAL_REASONS), 'ENETWORK'];
const CATALOGUES: Record<Language, Record<string, unknown>> = { en, 'zh-CN': zhCN };

function keys(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'string' ? [prefix + k] : keys(v as Record<string, unknown>, `${prefix + k}.`),
  );
}

t.afterEach(() => setLanguage('en'));

t.test('every API error code and refusal reason has a sentence in every language', async (t) => {
  t.same(Object.keys(LANGUAGES), ['en', 'zh-CN']);
  for (const lang of Object.keys(LANGUAGES) as Language[]) {
    const errors = CATALOGUES[lang].errors as Record<string, string>;
    setLanguage(lang);
    for (const code of CODES) {
      t.type(errors[code], 'string', `${lang}: the catalogue has errors.${code}`);
      const s = sentenceFor(code);
      t.type(s, 'string', `${lang} ${code}`);
      t.notMatch(s, new RegExp(`\\b${code}\\b`), `${lang} ${code}: not the bare code`);
      if (lang === 'en') t.match(s, /^[A-Z].*\.$/, `${code}: an English sentence`);
      else t.match(s, /[\u4e00-\u9fff].*[。！]$/u, `${code}: a Chinese sentence`);
    }
  }
  // The Chinese sentences are translations, not English copies.
  const zhErrors = zhCN.errors as Record<string, string>;
  const enErrors = en.errors as Record<string, string>;
  for (const code of CODES) t.not(zhErrors[code], enErrors[code], `${code} is translated`);
});

t.test('both catalogues have the same keys and the same placeholders', async (t) => {
  const enKeys = keys(en);
  t.same(keys(zhCN).sort(), [...enKeys].sort());
  const holes = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
  const get = (o: Record<string, unknown>, k: string) =>
    k.split('.').reduce<unknown>((x, p) => (x as Record<string, unknown>)[p], o) as string;
  for (const k of enKeys) t.same(holes(get(zhCN, k)), holes(get(en, k)), `placeholders of ${k}`);
});

t.test('the language comes from the browser, and the switch changes every sentence', async (t) => {
  t.equal(pickLanguage(['zh-CN', 'en']), 'zh-CN');
  t.equal(pickLanguage(['zh-TW']), 'zh-CN', 'any Chinese: the Chinese pages');
  t.equal(pickLanguage(['de-DE', 'en-GB']), 'en');
  t.equal(pickLanguage(['fr']), 'en', 'no language of ours: English');
  setLanguage('zh-CN');
  t.equal(language(), 'zh-CN');
  t.equal(
    describeError(new ApiError(402, 'CARD_DECLINED', 'card declined')),
    '您的银行卡被拒绝，请换一张卡。',
  );
  t.equal(
    describeError(new ApiError(429, 'TOO_MANY_ATTEMPTS', 'x', { retryAfterSeconds: 300 })),
    '尝试次数过多，请在5分钟后重试。',
  );
  t.equal(
    describeError(new ApiError(403, 'WEAK_PASSWORD', 'x', { reason: 'common' })),
    '这是最常见的密码之一，请换一个。',
  );
  t.equal(tr('rent.total', { count: 3 }), '3 天合计：');
  setLanguage('en');
  t.equal(tr('rent.total', { count: 1 }), 'Total for 1 day:');
  t.equal(tr('rent.total', { count: 3 }), 'Total for 3 days:');
});

t.test('money, sizes, distances, durations, dates and relative times through Intl', async (t) => {
  const now = new Date('2025-03-01T12:00:00Z');
  setLanguage('zh-CN');
  t.equal(formatMoney(1250, 'CNY'), '¥12.50');
  t.equal(formatMoney(1250, 'EUR'), '€12.50');
  t.equal(formatBytes(2e12), '2 TB');
  t.equal(formatDistance(1234), '1.2公里');
  t.equal(formatDuration(180), '3分钟');
  t.equal(formatRelative('2025-03-01T09:00:00Z', now), '3小时前');
  t.match(formatDateTime('2025-03-01T09:00:00Z'), /^2025年3月1日/);
  t.equal(formatRelative('2025-03-01T12:00:20Z', now), '不到一分钟后');
  setLanguage('en');
  t.equal(formatMoney(1250, 'CNY'), 'CN¥12.50');
  t.equal(formatRelative('2025-03-03T12:00:00Z', now), 'in 2 days');
  t.equal(formatClock(75), '1:15');
  t.equal(formatClock(3725), '1:02:05');
  t.equal(formatClock(-3), '0:00');
});

t.test("an amount without a currency takes the hub's configured one", async (t) => {
  const before = getHubCurrency();
  t.teardown(() => setHubCurrency(before));
  setHubCurrency('CNY');
  t.equal(formatMoney(500), 'CN¥5.00');
  setHubCurrency('EUR');
  t.equal(formatMoney(500), '€5.00');
  setHubCurrency(undefined);
  t.equal(formatMoney(500), '5.00', 'no currency known: the number alone, never a guessed one');
});

t.test('commands read as sentences in both languages, never as their payload', async (t) => {
  const disable = { action: 'DisableSlot', payload: { slot: 2, reason: 'door sticks' } };
  const dispense = {
    action: 'Dispense',
    payload: { slot: 1, diskId: 'disk-a', signature: { sig: 'c2lnbmF0dXJl', keyId: 'k1' } },
  };
  t.teardown(() => setLanguage('en'));
  setLanguage('en');
  t.equal(commandSentence(disable), 'Disable slot 2 (reason: door sticks)');
  t.equal(commandSentence(dispense), 'Push out disk disk-a from slot 1');
  t.equal(commandStateText('pending'), 'waiting for the kiosk to connect');
  setLanguage('zh-CN');
  t.equal(commandSentence(disable), '停用 2 号仓位（原因：door sticks）');
  t.equal(commandStateText('accepted'), '已接受，进行中');
  t.notMatch(commandSentence(dispense), /c2lnbmF0dXJl|\{/, 'no signature, no JSON');
});

t.test(
  'every alert kind has a name in both languages (the attention panel, the map)',
  async (t) => {
    for (const lang of Object.keys(LANGUAGES) as Language[]) {
      setLanguage(lang);
      for (const kind of ALERT_KIND_NAMES) {
        const name = tr(`alerts.kind.${kind}`);
        t.notMatch(name, /_|^alerts\./, `${lang} ${kind}: words, not the code (${name})`);
        if (lang === 'zh-CN') t.match(name, /[\u4e00-\u9fff]/u, `${kind}: in Chinese`);
      }
    }
    t.same(
      Object.keys((en.alerts as { kind: object }).kind).sort(),
      [...ALERT_KIND_NAMES].sort(),
      'no name for a kind the hub does not have',
    );
  },
);
