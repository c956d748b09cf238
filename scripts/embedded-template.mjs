// The build's last step: the database files a fresh embedded database starts from (see
// libs/database/embedded/data-dir-template.ts for why), made by the installed PGlite.
import { buildTemplate } from '../dist/libs/database/embedded/data-dir-template.js';
import { initialiseDataDir } from '../dist/libs/database/embedded/embedded.database.js';

await buildTemplate((dataDir) =>
  initialiseDataDir({ dataDir, port: 0, maxConnections: 1, sharedBuffersMb: 32 }),
);
