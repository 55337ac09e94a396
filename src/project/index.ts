export { loadProject, type LoadProjectResult } from './load-project.js';
export { defineConfig } from './define-config.js';
export { PROJECT_CODES, type ProjectCode } from './codes.js';
export { weirConfigSchema, WEIR_CONFIG_FILES } from './weir-config.js';
export * from './types.js';
