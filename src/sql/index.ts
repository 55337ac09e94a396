export { TEMPLATE_CODES, type TemplateCode } from './codes.js';
export { extractDocsBlocks, extractSnapshotBlocks, type TemplateBlock } from './blocks.js';
export { createRelation, quoteIdentifier, type Relation } from './relation.js';
export { injectCtes, stripTrailingSemicolon, type Cte } from './sql-text.js';
export { sourceLineFor } from './source-line.js';
export {
  TemplateEngine,
  type MacroFile,
  type RenderContext,
  type TemplateEngineOptions,
} from './template-engine.js';
export { ParseCache } from './parse-cache.js';
