// Regenerates docs/configuration.md from the declared settings (src/config/serve-settings.ts).
import { writeFileSync } from 'node:fs';
import { configurationDoc } from '../src/config/configuration-doc.js';

writeFileSync('docs/configuration.md', configurationDoc());
