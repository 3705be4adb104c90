/**
 * The words of the renters' e-mails, in the languages the pages speak (en, zh-CN): a subject,
 * a plain-text body and the same as simple HTML. Money and dates are written by Intl, in the
 * hub's currency and time zone. Nothing here knows a card number or a secret: the payloads
 * carry amounts, titles, places and times only.
 */

export const MAIL_LANGUAGES = ['en', 'zh-CN'] as const;
export type MailLanguage = (typeof MAIL_LANGUAGES)[number];

/**
 * The best of our languages for an HTTP Accept-Language header (`zh-CN,zh;q=0.9,en;q=0.8`):
 * the first of its tags, by weight, that is English or Chinese; English when none is.
 */
export function acceptLanguage(header: string | undefined): MailLanguage {
  const tags = (header ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((t) => t.tag && t.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of tags) {
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
  }
  return 'en';
}

/** The renter's e-mail language: `users.language` when it is one of ours, else English. */
export function mailLanguage(language: string | null | undefined): MailLanguage {
  return language === 'zh-CN' ? 'zh-CN' : 'en';
}

/**
 * The kinds of renter e-mail. Receipts and payment confirmations (about money held or taken)
 * cannot be unsubscribed from; the others can.
 */
export const RENTER_MAIL_KINDS = [
  'receipt',
  'payment_confirmation',
  'due_tomorrow',
  'overdue',
  'reservation_ready',
  'reservation_expiring',
] as const;
export type RenterMailKind = (typeof RENTER_MAIL_KINDS)[number];
/** The kinds always sent: the renter's record of their money. */
export const ALWAYS_SENT_KINDS = ['receipt', 'payment_confirmation'] as const;
type AlwaysSent = (typeof ALWAYS_SENT_KINDS)[number];
/** The kinds a renter may opt out of (all but the always-sent ones). */
export const OPTIONAL_KINDS = RENTER_MAIL_KINDS.filter(
  (k) => !(ALWAYS_SENT_KINDS as readonly string[]).includes(k),
) as Exclude<RenterMailKind, AlwaysSent>[];
export type OptionalKind = (typeof OPTIONAL_KINDS)[number];

export function isOptionalKind(k: string): k is OptionalKind {
  return (OPTIONAL_KINDS as readonly string[]).includes(k);
}

/** What a receipt is for (a charge's kind, a deposit top-up, a refund). */
export type ReceiptFor =
  | 'rental'
  | 'extension'
  | 'overdue'
  | 'lost'
  | 'lost_reversed'
  | 'reservation_no_show'
  | 'deposit'
  | 'refund';

/** What each kind's mail says: the facts frozen when it was decided. */
export interface RenterMailPayloads {
  receipt: {
    for: ReceiptFor;
    amountMinor: number;
    currency: string;
    at: string;
    /** The charge or payment id: the receipt's reference. */
    reference: string;
    title?: string;
    kioskName?: string;
    days?: number;
    /** A refund's reason, as the operator gave it. */
    reason?: string;
  };
  /**
   * Renewing the hold on the renter's card before it lapses needs the renter to confirm it to
   * their bank (an off-session renewal the issuer wants authenticated).
   */
  payment_confirmation: {
    for: 'order' | 'reservation';
    title: string;
    kioskName: string;
    amountMinor: number;
    currency: string;
    /** When the current hold lapses (null: not known). */
    lapsesAt: string | null;
    /** The order's or reservation's id. */
    reference: string;
  };
  due_tomorrow: { title: string; kioskName: string; dueAt: string };
  overdue: {
    title: string;
    dueAt: string;
    feeSoFarMinor: number;
    feePerDayMinor: number;
    currency: string;
  };
  reservation_ready: { title: string; kioskName: string; address: string; holdUntil: string };
  reservation_expiring: { title: string; kioskName: string; address: string; holdUntil: string };
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface RenderContext {
  timeZone: string;
  /** The signed unsubscribe link (absent for receipts). */
  unsubscribeUrl?: string;
  /** The renter's pages (`<origin>/me`), to see rentals and settings. */
  accountUrl: string;
}

/** `amountMinor` in `currency`, written for `lang` (e.g. `€12.50`, `€12.50` / `¥12.50`). */
export function formatMoney(amountMinor: number, currency: string, lang: MailLanguage): string {
  const f = new Intl.NumberFormat(lang, { style: 'currency', currency });
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(amountMinor / 10 ** digits);
}

/** `iso` as a date and time in `timeZone`, written for `lang`, with the zone's name. */
export function formatTime(iso: string, lang: MailLanguage, timeZone: string): string {
  return new Intl.DateTimeFormat(lang, {
    dateStyle: 'full',
    timeStyle: 'short',
    timeZone,
  }).format(new Date(iso));
}

type Line = string;
interface Words {
  subject: string;
  lines: Line[];
}

const RECEIPT_WHAT: Record<MailLanguage, Record<ReceiptFor, string>> = {
  en: {
    rental: 'Rental',
    extension: 'Rental extension',
    overdue: 'Late fee (one day overdue)',
    lost: 'Lost disk charge',
    lost_reversed: 'Lost disk charge returned (the disk came back)',
    reservation_no_show: 'Reservation not picked up (no-show fee)',
    deposit: 'Deposit top-up',
    refund: 'Refund to your card',
  },
  'zh-CN': {
    rental: '租借费用',
    extension: '续租费用',
    overdue: '逾期费（逾期一天）',
    lost: '磁盘遗失费',
    lost_reversed: '磁盘遗失费已退回（磁盘已归还）',
    reservation_no_show: '预约未取（未取件费）',
    deposit: '押金充值',
    refund: '退款至您的银行卡',
  },
};

function words<K extends RenterMailKind>(
  kind: K,
  p: RenterMailPayloads[K],
  lang: MailLanguage,
  ctx: RenderContext,
): Words {
  const time = (iso: string) => formatTime(iso, lang, ctx.timeZone);
  const money = (minor: number, currency: string) => formatMoney(minor, currency, lang);
  const zh = lang === 'zh-CN';
  switch (kind) {
    case 'receipt': {
      const r = p as RenterMailPayloads['receipt'];
      const what = RECEIPT_WHAT[lang][r.for];
      const credit = r.for === 'refund' || r.for === 'lost_reversed';
      const amount = money(Math.abs(r.amountMinor), r.currency);
      const lines = zh
        ? [
            `${what}：${credit ? '退回 ' : ''}${amount}`,
            ...(r.title ? [`内容：${r.title}`] : []),
            ...(r.kioskName ? [`租借机：${r.kioskName}`] : []),
            ...(r.days ? [`天数：${r.days}`] : []),
            ...(r.reason ? [`原因：${r.reason}`] : []),
            `时间：${time(r.at)}`,
            `凭证号：${r.reference}`,
          ]
        : [
            `${what}: ${credit ? 'returned ' : ''}${amount}`,
            ...(r.title ? [`Content: ${r.title}`] : []),
            ...(r.kioskName ? [`Kiosk: ${r.kioskName}`] : []),
            ...(r.days ? [`Days: ${r.days}`] : []),
            ...(r.reason ? [`Reason: ${r.reason}`] : []),
            `When: ${time(r.at)}`,
            `Reference: ${r.reference}`,
          ];
      return {
        subject: zh ? `收据：${what} ${amount}` : `Receipt: ${what} ${amount}`,
        lines,
      };
    }
    case 'payment_confirmation': {
      const c = p as RenterMailPayloads['payment_confirmation'];
      const amount = money(c.amountMinor, c.currency);
      const reservation = c.for === 'reservation';
      const when = c.lapsesAt ? time(c.lapsesAt) : zh ? '近期' : 'soon';
      return zh
        ? {
            subject: `请确认：您的银行要求您确认「${c.title}」的付款预授权`,
            lines: [
              `您${reservation ? '预约' : '租借'}的「${c.title}」（${c.kioskName}）在您的银行卡上预授权了 ${amount}，该预授权将于 ${when} 失效。`,
              '我们在您不在场的情况下为其续期，但您的银行要求您本人确认，因此未能续期。',
              `请联系我们寻求帮助，或改用另一张银行卡支付${reservation ? '（取消此预约后重新预约）' : ''}。`,
              `参考号：${c.reference}`,
            ],
          }
        : {
            subject: `Please confirm: your bank wants you to approve the hold for "${c.title}"`,
            lines: [
              `Your ${reservation ? 'reservation' : 'rental'} of "${c.title}" (${c.kioskName}) holds ${amount} on your card; that hold lapses on ${when}.`,
              'We tried to renew it while you were away, but your bank wants you to confirm the renewal yourself, so it was not renewed.',
              `Please ask us for help, or pay with another card${reservation ? ' (cancel this reservation and reserve again)' : ''}.`,
              `Reference: ${c.reference}`,
            ],
          };
    }
    case 'due_tomorrow': {
      const d = p as RenterMailPayloads['due_tomorrow'];
      return zh
        ? {
            subject: `提醒：「${d.title}」将于明天到期`,
            lines: [
              `您租借的「${d.title}」（${d.kioskName}）将于 ${time(d.dueAt)} 到期。`,
              '请在此之前归还到任意一台租借机，或在网页上续租，以免产生逾期费。',
            ],
          }
        : {
            subject: `Reminder: "${d.title}" is due back tomorrow`,
            lines: [
              `Your rental of "${d.title}" (from ${d.kioskName}) is due back on ${time(d.dueAt)}.`,
              'Return it to any kiosk before then, or extend it on the web page, to avoid late fees.',
            ],
          };
    }
    case 'overdue': {
      const o = p as RenterMailPayloads['overdue'];
      const fee = money(o.feeSoFarMinor, o.currency);
      const perDay = money(o.feePerDayMinor, o.currency);
      return zh
        ? {
            subject: `「${o.title}」已逾期，目前逾期费 ${fee}`,
            lines: [
              `您租借的「${o.title}」应于 ${time(o.dueAt)} 归还，现已逾期。`,
              `目前的逾期费：${fee}（每天 ${perDay}，从押金中扣除）。`,
              '请尽快归还到任意一台租借机；逾期过久的磁盘将按遗失处理并收取遗失费。',
            ],
          }
        : {
            subject: `"${o.title}" is overdue: ${fee} in late fees so far`,
            lines: [
              `Your rental of "${o.title}" was due back on ${time(o.dueAt)} and is now overdue.`,
              `Late fees so far: ${fee} (${perDay} a day, taken from your deposit).`,
              'Please return it to any kiosk soon: a disk kept too long is charged as lost.',
            ],
          };
    }
    case 'reservation_ready': {
      const r = p as RenterMailPayloads['reservation_ready'];
      return zh
        ? {
            subject: `您预约的「${r.title}」已可取件`,
            lines: [
              `「${r.title}」已在 ${r.kioskName}（${r.address}）准备好。`,
              `请在 ${time(r.holdUntil)} 之前取件；之后预约将失效并可能收取未取件费。`,
              '取件时扫描租借机上的二维码，或在键盘上输入网页上显示的取件码。',
            ],
          }
        : {
            subject: `Your reservation of "${r.title}" is ready for pickup`,
            lines: [
              `"${r.title}" is ready at ${r.kioskName} (${r.address}).`,
              `Pick it up before ${time(r.holdUntil)}; after that the hold ends and a no-show fee may be charged.`,
              "To pick it up, scan the kiosk's QR code, or type the pickup code shown on the web page.",
            ],
          };
    }
    case 'reservation_expiring': {
      const r = p as RenterMailPayloads['reservation_expiring'];
      return zh
        ? {
            subject: `您预约的「${r.title}」即将失效`,
            lines: [
              `「${r.title}」仍在 ${r.kioskName}（${r.address}）等您取件。`,
              `预约将于 ${time(r.holdUntil)} 失效；之后可能收取未取件费。`,
            ],
          }
        : {
            subject: `Your reservation of "${r.title}" ends soon`,
            lines: [
              `"${r.title}" is still waiting for you at ${r.kioskName} (${r.address}).`,
              `The hold ends on ${time(r.holdUntil)}; after that a no-show fee may be charged.`,
            ],
          };
    }
  }
  throw new Error(`no words for mail kind ${kind}`);
}

const FOOTER: Record<
  MailLanguage,
  { account: string; unsubscribe: string; receipt: string; payment: string }
> = {
  en: {
    account: 'Your rentals, reservations and e-mail settings:',
    unsubscribe: 'To stop e-mails of this kind, open:',
    receipt: 'Receipts are always sent; they are your record of what was charged.',
    payment: 'E-mails about money held on your card are always sent.',
  },
  'zh-CN': {
    account: '您的租借、预约和邮件设置：',
    unsubscribe: '如不想再收到此类邮件，请打开：',
    receipt: '收据总会发送，作为您的付款记录。',
    payment: '有关您银行卡上预授权金额的邮件总会发送。',
  },
};

/** `s` with HTML's special characters escaped (text and attribute values). */
export const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The mail of `kind` with `payload`, in `lang`: subject, plain text and simple HTML. */
export function renderRenterMail<K extends RenterMailKind>(
  kind: K,
  payload: RenterMailPayloads[K],
  lang: MailLanguage,
  ctx: RenderContext,
): RenderedMail {
  const w = words(kind, payload, lang, ctx);
  const f = FOOTER[lang];
  const foot: Array<[string, string | undefined]> = [
    [f.account, ctx.accountUrl],
    kind === 'receipt'
      ? [f.receipt, undefined]
      : kind === 'payment_confirmation'
        ? [f.payment, undefined]
        : [f.unsubscribe, ctx.unsubscribeUrl],
  ];
  const text = [
    ...w.lines,
    '',
    '--',
    ...foot.flatMap(([label, url]) => (url ? [label, url] : [label])),
    '',
  ].join('\n');
  const link = (url: string) => `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
  const html =
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${escapeHtml(w.subject)}</title></head><body>` +
    w.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('') +
    '<hr>' +
    foot
      .map(
        ([label, url]) => `<p><small>${escapeHtml(label)}${url ? ` ${link(url)}` : ''}</small></p>`,
      )
      .join('') +
    '</body></html>';
  return { subject: w.subject, text, html };
}
