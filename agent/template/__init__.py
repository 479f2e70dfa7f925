"""The template layer: a team's markdown template in, a compiled `Template` out, and plans rendered back.

Data flows through the modules in this order:

- `parse`: markdown text → blocks and a heading tree, with line numbers (plans are read the same way).
- `placeholders`: the placeholder and guidance syntaxes a template may use.
- `regions`: the whole template's blocks → the same without texts about the template or spans to remove
  before review, instructions moved under the heading they introduce, a template shown in a ```markdown
  fence unwrapped.
- `lists`: a section's blocks → the same with a list split by notes between its items joined again; items
  that number themselves (`**FR-001**:`) → their label pattern.
- `classify`: one section's blocks → literal text and fields.
- `repeats`: sibling sections of one shape (`Phase 0`, `Phase 1`) → one repeated block.
- `compile`: markdown template → `model.Template` (sections, units, fields).
- `schema`: `Template` → pydantic models and strict JSON schemas the model fills.
- `render`: filled plan data → markdown in the template's own shape.
- `describe`: `Template` → the outline `plan templates show` prints.
- `catalog`: where templates and prompts come from (built-ins or a path).
"""
