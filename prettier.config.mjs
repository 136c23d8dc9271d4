// Prettier: the style the code was written in (single quotes, semicolons, trailing commas, `(x) =>`).
// printWidth 160: measured on the tree, reformatting at 140 changes ~5,600 lines, at 160 ~4,600, and each
// further 20 columns saves only ~500 more (~2,800 is the floor: one-line blocks Prettier always expands).
/** @type {import('prettier').Config} */
export default {
  // The oxc parser (Rust) for TypeScript and JavaScript: the same printer, so the same output, parsed several times
  // faster than with the default typescript parser (the format check is part of CI's lint step).
  plugins: ['@prettier/plugin-oxc'],
  printWidth: 160,
  singleQuote: true,
  trailingComma: 'all',
  arrowParens: 'always',
  // YAML (fleet files, workflows) keeps its double quotes: "1.31" reads as the string it must be.
  overrides: [{ files: ['*.yaml', '*.yml'], options: { singleQuote: false } }],
};
