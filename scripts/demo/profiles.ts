/** Realistic, varied career-path requests, as the Rails app would send them (deterministic per index). */

const ROLES = [
  ['Registered Nurse', 'bachelor', 'Nursing', ['patient assessment', 'triage', 'EHR documentation'], 'healthcare'],
  ['Junior Software Developer', 'bachelor', 'Computer Science', ['JavaScript', 'SQL', 'Git'], 'technology'],
  ['Retail Store Manager', 'associate', 'Business Administration', ['team leadership', 'inventory', 'scheduling'], 'e-commerce'],
  ['High School Math Teacher', 'master', 'Education', ['curriculum design', 'statistics', 'mentoring'], 'edtech'],
  ['Mechanical Engineer', 'bachelor', 'Mechanical Engineering', ['CAD', 'FEA', 'project management'], 'renewable energy'],
  ['Accountant', 'bachelor', 'Accounting', ['IFRS', 'Excel', 'auditing'], 'fintech'],
  ['Warehouse Associate', 'high_school', 'General Studies', ['forklift', 'inventory scanning', 'safety'], 'logistics'],
  ['Marketing Coordinator', 'bachelor', 'Communications', ['social media', 'copywriting', 'Google Analytics'], 'technology'],
  ['Postdoctoral Researcher', 'doctorate', 'Molecular Biology', ['CRISPR', 'Python', 'grant writing'], 'biotech'],
  ['Paralegal', 'associate', 'Legal Studies', ['legal research', 'contract review', 'e-discovery'], 'legal tech'],
  ['Data Analyst', 'master', 'Statistics', ['Python', 'SQL', 'Tableau'], 'healthcare'],
  ['Electrician', 'none', 'Trade apprenticeship', ['wiring', 'code compliance', 'solar installation'], 'renewable energy'],
] as const;

const GOALS = [
  'Move into a leadership role within three years while keeping a good work-life balance.',
  'Switch into a more technical role and roughly double my salary.',
  'Find remote-friendly work that uses what I already know.',
  'Build a path toward a management position in a growing company.',
  'Specialise in a niche with strong demand and job security.',
  '',
];
const LOCATIONS = ['Austin, TX', 'Toronto, ON', 'Manchester, UK', 'Remote', 'Berlin, DE', undefined];
const EXTRA_SKILLS = ['public speaking', 'Spanish', 'budgeting', 'negotiation', 'Excel', 'customer service', 'AWS'];
const TRENDS = ['rising', 'stable', 'falling'] as const;

/** The `input` of request number `i`. */
export function careerInput(i: number): Record<string, unknown> {
  const [role, level, field, skills, sector] = ROLES[i % ROLES.length]!;
  const input: Record<string, unknown> = {
    current_role: role,
    degree: { level, field },
    years_experience: (i * 7) % 25,
    skills: [...skills, EXTRA_SKILLS[i % EXTRA_SKILLS.length]!],
    target_sector: sector,
  };
  const goals = GOALS[i % GOALS.length];
  if (goals) input.goals = goals;
  const location = LOCATIONS[(i >> 1) % LOCATIONS.length];
  if (location) input.location = location;
  if (i % 3 === 0) {
    input.market_data = { median_salary_usd: 55_000 + ((i * 3_100) % 60_000), demand_trend: TRENDS[i % 3], top_skills: [skills[0]] };
  }
  return input;
}

/** A whole job submission for request number `i`; user ids repeat so that sticky A/B assignment shows. */
export function careerSubmission(i: number): Record<string, unknown> {
  return {
    feature: 'career_path_navigator',
    user_id: `user-${(i * 37) % 997}`,
    input: careerInput(i),
    metadata: { source: 'demo', request_number: i },
  };
}
