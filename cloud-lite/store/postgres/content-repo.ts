import type { ContentRecord, ContentRepo } from '../repos/content-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgContentRepo(sql: Sql): ContentRepo {
  const content = pgTable<ContentRecord>(sql, { name: 'content_packages', key: 'id' });
  return {
    ...content.keyed,
    list: () => content.all('SELECT * FROM content_packages ORDER BY title, id'),
  };
}
