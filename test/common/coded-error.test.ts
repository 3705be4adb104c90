import t from 'tap';
import { ConfigError as HubConfigError } from '../../cloud-lite/errors.js';
import { CodedError } from '../../common/coded-error.js';
import { MotorBoardError } from '../../hal/motor-board/types.js';
import { StorageError } from '../../hal/storage/types.js';
import { ContentError, ManifestError } from '../../kiosk/content/errors.js';
import { StaleStateError } from '../../kiosk/slots/errors.js';
import { CallError } from '../../protocol/errors.js';

t.test('code, message, cause, and the class name as name', async (t) => {
  const cause = new Error('underneath');
  const e = new CodedError('EFOO', 'foo failed; do bar', { cause });
  t.ok(e instanceof Error);
  t.match(e, { code: 'EFOO', message: 'foo failed; do bar', name: 'CodedError' });
  t.equal(e.cause, cause);
  class WidgetError extends CodedError<'EWIDGET'> {}
  t.equal(new WidgetError('EWIDGET', 'x').name, 'WidgetError', 'a subclass is named after itself');
});

t.test('the error classes of every layer share the base and keep their fields', async (t) => {
  const errors = [
    new MotorBoardError('ENAK', 'refused', { nak: 'busy' }),
    new StorageError('ETOOL', 'mkfs failed', { tool: 'mkfs.exfat', exitCode: 1, stderr: 'x' }),
    new StaleStateError(3, 'ready', 'fault'),
    new CallError('FormatViolation', 'bad frame', { problem: 'x' }),
    new HubConfigError('bad key'),
  ];
  for (const e of errors) t.ok(e instanceof CodedError, `${e.name} is a CodedError`);
  t.match(errors[0], { name: 'MotorBoardError', code: 'ENAK', nak: 'busy' });
  t.match(errors[1], { name: 'StorageError', tool: 'mkfs.exfat', exitCode: 1, stderr: 'x' });
  t.match(errors[2], { name: 'StaleStateError', code: 'ESTALESTATE', slot: 3, actual: 'fault' });
  t.match(errors[3], { name: 'CallError', code: 'FormatViolation', details: { problem: 'x' } });
  t.match(errors[4], { name: 'ConfigError', code: 'ECONFIG', status: 500 });
  const m = new ManifestError('a/b.txt', 'bad hash');
  t.ok(m instanceof ContentError);
  t.match(m, { name: 'ContentError', code: 'EMANIFEST', entry: 'a/b.txt' });
});
