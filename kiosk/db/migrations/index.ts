import type { Migration } from '../../../common/sqlite-migrate.js';
import { sql as m001 } from './001-initial.js';
import { sql as m002 } from './002-content.js';
import { sql as m003 } from './003-wipe-jobs.js';
import { sql as m004 } from './004-ready-reformats.js';
import { sql as m005 } from './005-images.js';
import { sql as m006 } from './006-updates.js';
import { sql as m007 } from './007-database-id.js';
import { sql as m008 } from './008-pickup-codes.js';

/** Every migration in order. Append only; never edit one that has shipped. */
export const migrations: readonly Migration[] = [
  { version: 1, name: '001-initial', sql: m001 },
  { version: 2, name: '002-content', sql: m002 },
  { version: 3, name: '003-wipe-jobs', sql: m003 },
  { version: 4, name: '004-ready-reformats', sql: m004 },
  { version: 5, name: '005-images', sql: m005 },
  { version: 6, name: '006-updates', sql: m006 },
  { version: 7, name: '007-database-id', sql: m007 },
  { version: 8, name: '008-pickup-codes', sql: m008 },
];
