import { type CardInput, SANDBOX_CARDS } from '../lib/card.js';
import { Field } from './components.js';

/** Card number, expiry and CVC, "save this card", with the sandbox test cards as a hint. */
export function CardFields({
  value,
  onChange,
}: {
  value: CardInput;
  onChange: (v: CardInput) => void;
}) {
  return (
    <fieldset class="card-fields">
      <legend>Card</legend>
      <Field
        label="Card number"
        name="cc-number"
        autocomplete="cc-number"
        inputMode="numeric"
        required
        value={value.number}
        onInput={(number) => onChange({ ...value, number })}
      />
      <div class="row">
        <Field
          label="Expiry (MM/YY)"
          name="cc-exp"
          autocomplete="cc-exp"
          placeholder="MM/YY"
          required
          value={value.expiry}
          onInput={(expiry) => onChange({ ...value, expiry })}
        />
        <Field
          label="CVC"
          name="cc-csc"
          autocomplete="cc-csc"
          inputMode="numeric"
          required
          value={value.cvc}
          onInput={(cvc) => onChange({ ...value, cvc })}
        />
      </div>
      <div class="field check">
        <input
          id="save-card"
          type="checkbox"
          checked={!!value.save}
          onChange={(e) =>
            onChange({ ...value, save: (e.currentTarget as HTMLInputElement).checked })
          }
        />
        <label for="save-card">Save this card for later payments (only once it is accepted)</label>
      </div>
      <details class="sandbox-hint">
        <summary>Test cards (sandbox payments)</summary>
        <ul>
          {SANDBOX_CARDS.map((c) => (
            <li key={c.number}>
              <code>{c.number}</code>: {c.outcome}
            </li>
          ))}
        </ul>
        <p>Any future expiry date and any 3-digit CVC.</p>
      </details>
    </fieldset>
  );
}

export const EMPTY_CARD: CardInput = { number: '', expiry: '', cvc: '', save: false };
