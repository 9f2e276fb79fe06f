/**
 * Deterministic career-plan answers: the same prompt always yields the same text, and different
 * prompts pick different phrasings, so caches and A/B reports see realistic variety.
 */
import { fnv1a } from './random.ts';

/** Facts recognised in a prompt; each falls back to a neutral phrase when absent. */
export interface PromptFacts {
  role: string;
  sector: string;
  targetRole: string | undefined;
  experience: string | undefined;
  skills: string | undefined;
}

const LABELS: Record<keyof PromptFacts, RegExp> = {
  role: /^[\s*-]*(?:current (?:role|position|job)|role|job title|position)\s*[:=]\s*(.+)$/im,
  sector: /^[\s*-]*(?:target (?:sector|industry)|sector|industry|field)\s*[:=]\s*(.+)$/im,
  targetRole: /^[\s*-]*(?:target role|desired role|goal|target position)\s*[:=]\s*(.+)$/im,
  experience: /^[\s*-]*(?:years of experience|experience|experience band)\s*[:=]\s*(.+)$/im,
  skills: /^[\s*-]*(?:skills|current skills|key skills)\s*[:=]\s*(.+)$/im,
};

function field(prompt: string, re: RegExp): string | undefined {
  const value = re.exec(prompt)?.[1]?.trim().replace(/[.;,]+$/, '');
  // Long values are free text rather than a label; keep answers readable.
  return value && value.length <= 80 ? value : undefined;
}

/** Extracts role, sector and friends from `Label: value` lines of the prompt. */
export function extractFacts(prompt: string): PromptFacts {
  return {
    role: field(prompt, LABELS.role) ?? 'your current role',
    sector: field(prompt, LABELS.sector) ?? 'your chosen sector',
    targetRole: field(prompt, LABELS.targetRole),
    experience: field(prompt, LABELS.experience),
    skills: field(prompt, LABELS.skills),
  };
}

const OPENINGS = [
  (f: PromptFacts) => `Here is a practical career plan for moving from ${f.role} into ${f.sector}.`,
  (f: PromptFacts) => `Moving from ${f.role} toward ${f.sector} is realistic with a focused plan. Here is one.`,
  (f: PromptFacts) => `Your background as ${f.role} gives you a solid base for ${f.sector}. Below is a step-by-step plan.`,
  (f: PromptFacts) => `A transition from ${f.role} into ${f.sector} works best in deliberate stages. This plan lays them out.`,
];

const NEXT_ROLES = [
  ['Senior Analyst', 'Team Lead', 'Program Manager'],
  ['Specialist', 'Consultant', 'Practice Lead'],
  ['Associate Product Manager', 'Product Manager', 'Head of Product'],
  ['Operations Coordinator', 'Operations Manager', 'Director of Operations'],
  ['Engineer', 'Senior Engineer', 'Engineering Manager'],
] as const;

const SKILLS = [
  'data literacy (spreadsheets, SQL, and reading dashboards critically)',
  'stakeholder communication and writing concise proposals',
  'project management fundamentals (scoping, estimating, risk tracking)',
  'domain knowledge: regulations, key players and business models',
  'a portfolio of two or three small, visible projects',
  'negotiation and presenting to senior audiences',
  'basic automation or scripting to remove repetitive work',
  'mentoring others and leading small initiatives',
];

const SALARY = [
  (f: PromptFacts) => `Salary outlook: entry into ${f.sector} often starts near your current pay, and tends to rise meaningfully within two to three years as responsibility grows. Compensation varies widely by region and company size, so compare several sources before negotiating.`,
  (f: PromptFacts) => `Salary outlook: expect a modest change at first; the larger gains in ${f.sector} usually come with the second move, once you can point to results. Use local salary surveys and conversations with peers to set your range.`,
  (f: PromptFacts) => `Salary outlook: roles in ${f.sector} generally reward demonstrated impact more than tenure, so the growth curve depends on how quickly you take ownership. Figures differ by location and employer; treat any single number with caution.`,
];

const CLOSINGS = [
  'Revisit this plan every quarter and adjust it to what you learn from the people already doing the work.',
  'Progress compounds: small, consistent steps each week matter more than a perfect plan.',
  'Keep a simple log of what you tried and what you learned; it becomes your story in interviews.',
];

/** Picks the `n`-th variant using a different slice of the hash for each choice. */
function choose<T>(items: readonly T[], hash: number, n: number): T {
  const item = items[(((hash >>> (n * 3)) ^ (hash >>> 17)) >>> 0) % items.length];
  if (item === undefined) throw new Error('empty phrase list');
  return item;
}

// A bare number ("6", "3-5") reads as years; anything else ("senior", "6 years") is kept as written.
const yearsPhrase = (experience: string): string =>
  /^\d+(?:\s*[-–+]\s*\d*)?$/.test(experience) ? `${experience} years` : experience;

/** The answer for a prompt: a multi-paragraph plan chosen deterministically from its hash. */
export function careerPlan(prompt: string): string {
  const f = extractFacts(prompt);
  const h = fnv1a(prompt);
  const ladder = choose(NEXT_ROLES, h, 1);
  const target = f.targetRole ?? `${ladder[0]} in ${f.sector}`;
  const start = (h >>> 5) % SKILLS.length;
  const skills = [0, 1, 2].map((i) => SKILLS[(start + i * 3) % SKILLS.length]);
  const background = [
    f.experience ? `With ${yearsPhrase(f.experience)} of experience` : 'With the experience you already have',
    f.skills ? ` and strengths in ${f.skills}` : '',
  ].join('');
  return [
    choose(OPENINGS, h, 0)(f),
    `Next roles: ${background}, a realistic next step is ${target}. From there, ${ladder[1]} and later ${ladder[2]} are natural progressions, each adding scope and decision-making responsibility.`,
    `Skills to build:\n- ${skills.join('\n- ')}`,
    `First 30 days: map the ${f.sector} landscape, list ten organisations you would like to work for, and hold three informational conversations with people already working as ${target}. Update your CV and profile so they describe your work as ${f.role} in the language of ${f.sector}.`,
    `Days 31-60: start one small project that shows ${skills[0] ?? 'a relevant skill'} and share the outcome publicly. Take a short course to close the most visible gap, and ask one of your new contacts for feedback on your approach.`,
    `Days 61-90: apply to a focused list of roles, tailoring each application to the results you can show. Practise interviews built around two or three concrete stories, and consider internal moves or contract work as a bridge into ${f.sector}.`,
    choose(SALARY, h, 2)(f),
    choose(CLOSINGS, h, 3),
  ].join('\n\n');
}
