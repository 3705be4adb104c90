import type { ComponentChildren, JSX } from 'preact';
import { useId } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { describeError } from '../lib/errors.js';
import { onServer } from '../lib/preload.js';

/**
 * A labelled input; `hint` and `error` are linked with aria-describedby, and an error marks
 * the input aria-invalid (the form shows every field's error at once).
 */
export function Field(
  props: {
    label: string;
    hint?: ComponentChildren;
    error?: string | undefined;
    value: string;
    onInput: (v: string) => void;
  } & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'value' | 'onInput' | 'label'>,
) {
  const { label, hint, error, value, onInput, id: given, ...rest } = props;
  const auto = useId();
  const id = (given as string | undefined) ?? auto;
  const described = [error ? `${id}-error` : '', hint ? `${id}-hint` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        {...rest}
        id={id}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described || undefined}
        onInput={(e) => onInput((e.currentTarget as HTMLInputElement).value)}
      />
      <FieldError id={id} error={error} />
      {hint ? (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

/** The error line under a field (`<id>-error`, which the field names in aria-describedby). */
export function FieldError({ id, error }: { id: string; error: string | undefined }) {
  if (!error) return null;
  return (
    <small id={`${id}-error`} class="field-error">
      {error}
    </small>
  );
}

/** Moves focus to the first invalid field of a form after a refused submit. */
export function focusFirstInvalid(form: EventTarget | null): void {
  setTimeout(() => {
    const el = (form as HTMLElement | null)?.querySelector<HTMLElement>('[aria-invalid="true"]');
    el?.focus();
  }, 0);
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
      {t('common.loading', { what })}
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

/** A button of the app; rendered by the hub into a page, it is disabled until the app runs it. */
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
      disabled={disabled || busy || onServer()}
      aria-busy={busy ? 'true' : undefined}
    >
      {children}
    </button>
  );
}
