// Lint plugin: the project uses named exports only.
const plugin: Deno.lint.Plugin = {
  name: "project",
  rules: {
    "no-default-export": {
      create(context) {
        return {
          ExportDefaultDeclaration(node) {
            context.report({ node, message: "Use a named export instead of a default export" });
          },
        };
      },
    },
  },
};
export { plugin as "default" };
