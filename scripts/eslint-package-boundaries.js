// A lint rule: a relative import must stay inside the package (the nearest folder with a
// package.json) of the file that makes it. A plugin reaches the kernel, or another package,
// only through its package name, so what it may use is what that package exports.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const packageRoots = new Map();
function packageRootOf(folder) {
  if (packageRoots.has(folder)) return packageRoots.get(folder);
  const parent = dirname(folder);
  const root = existsSync(join(folder, 'package.json')) || parent === folder ? folder : packageRootOf(parent);
  packageRoots.set(folder, root);
  return root;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'forbid relative imports that leave the package of the importing file' },
    schema: [],
    messages: {
      crossing: '"{{source}}" leaves the package {{from}} for {{to}}: import it by its package name',
    },
  },
  create(context) {
    const file = context.filename;
    const from = packageRootOf(dirname(file));
    const check = (node) => {
      const source = node.source && node.source.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = packageRootOf(dirname(resolve(dirname(file), source)));
      if (to !== from)
        context.report({
          node: node.source,
          messageId: 'crossing',
          data: {
            source,
            from: relative(process.cwd(), from) || '.',
            to: relative(process.cwd(), to) || '.',
          },
        });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};
