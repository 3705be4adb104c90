import type { ComponentChildren, JSX } from 'preact';
import { useId } from 'preact/hooks';
import { describeError } from '../lib/errors.js';

/** A labelled input; `hint` is linked with aria-describedby. */
export function Field(
  props: {
    label: string;
    hint?: ComponentChildren;
    value: string;
    onInput: (v: string) => void;
  } & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'value' | 'onInput' | 'label'>,
) {
  const { label, hint, value, onInput, ...rest } = props;
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        {...rest}
        id={id}
        value={value}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onInput={(e) => onInput((e.currentTarget as HTMLInputElement).value)}
      />
      {hint ? (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

/** An error message read out at once (role=alert); renders nothing without an error. */
export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  return (
    <p class="error" role="alert" data-code={(error as { code?: string }).code ?? ''}>
      {describeError(error)}
    </p>
  );
}

/** A polite live region for status updates (always rendered so that changes are announced). */
export function LiveStatus({ children, id }: { children: ComponentChildren; id?: string }) {
  return (
    <div class="status" id={id} role="status" aria-live="polite" aria-atomic="true">
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Badge({
  tone,
  children,
}: {
  tone: 'ok' | 'bad' | 'warn' | 'info';
  children: ComponentChildren;
}) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function Button(
  props: {
    busy?: boolean;
    children: ComponentChildren;
  } & JSX.ButtonHTMLAttributes<HTMLButtonElement>,
) {
  const { busy, children, disabled, ...rest } = props;
  return (
    <button
      type="button"
      {...rest}
      disabled={disabled || busy}
      aria-busy={busy ? 'true' : undefined}
    >
      {children}
    </button>
  );
}
