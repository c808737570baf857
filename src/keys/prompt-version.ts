/**
 * Version of the prompt templates. It is part of every rubric and verify key: change it whenever a
 * template's wording changes, so artifacts built from the old wording are not reused.
 */
export const PROMPT_TEMPLATE_VERSION = 'arr-prompts/2';
