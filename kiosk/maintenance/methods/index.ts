import { redactConfig } from '../../config/redact.js';
import { MaintenanceError } from '../../maintenance-wire.js';
import { type Method, recordAction } from './context.js';
import { calibrateMethod, disksMethod } from './disks.js';
import {
  cacheImportMethod,
  cacheLsMethod,
  cachePruneMethod,
  cloneMethod,
  syncMethod,
  verifyMethod,
  wipeMethod,
} from './jobs.js';
import { testMotorsMethod, testRelaysMethod, testSensorsMethod } from './self-tests.js';
import { disableMethod, ejectMethod, enableMethod, retractMethod } from './slot-actions.js';
import { slotsMethod, statusMethod } from './status.js';
import { updateInstallMethod, updateStatusMethod } from './update.js';

/** Actions kioskctl performs itself (config set, enrol) are recorded through this. */
const auditMethod: Method = async (params, ctx) => {
  const action = String(params.action ?? '');
  if (!/^[a-z][a-z0-9._-]{0,63}$/.test(action))
    throw new MaintenanceError('EINVAL', 'audit needs an action name like "config.set"');
  const args = (params.args && typeof params.args === 'object' ? params.args : {}) as Record<
    string,
    unknown
  >;
  recordAction(ctx, action, args);
  return { recorded: true };
};

/** Every method the maintenance socket answers, by wire name. */
export function maintenanceMethods(): Record<string, Method> {
  return {
    ping: async () => ({ pong: true }),
    status: statusMethod,
    slots: slotsMethod,
    'slot.eject': ejectMethod,
    'slot.retract': retractMethod,
    'slot.disable': disableMethod,
    'slot.enable': enableMethod,
    'test.motors': testMotorsMethod,
    'test.relays': testRelaysMethod,
    'test.sensors': testSensorsMethod,
    disks: disksMethod,
    calibrate: calibrateMethod,
    clone: cloneMethod,
    verify: verifyMethod,
    wipe: wipeMethod,
    'cache.ls': cacheLsMethod,
    'cache.import': cacheImportMethod,
    'cache.prune': cachePruneMethod,
    sync: syncMethod,
    'config.show': async (_p, { deps }) => ({ config: redactConfig(deps.config) }),
    audit: auditMethod,
    'update.status': updateStatusMethod,
    'update.install': updateInstallMethod,
  };
}
