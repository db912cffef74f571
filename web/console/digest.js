// The printable morning digest of one team: everything handed over since its office last
// closed, from GET /api/v1/teams/{team}/digest, with a CSV download beside it.
import { detectLanguage, setLanguage, t, label, language } from './i18n.js';
import { formatDue } from './time.js';

const params = new URLSearchParams(location.search);
const team = params.get('team');

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function subjectText(subject) {
  if (subject.anonymous) return subject.alias || '';
  return subject.birth_date ? `${subject.name} (${subject.birth_date})` : subject.name;
}

async function teamName(key) {
  const response = await fetch('/api/v1/teams', { credentials: 'same-origin' });
  const teams = response.ok ? await response.json() : [];
  const found = teams.find((candidate) => candidate.key === key);
  return found ? found[`name_${language()}`] : key;
}

function render(digest, teamName) {
  document.getElementById('digest-heading').textContent = t('digest.heading', { team: teamName });
  document.getElementById('digest-period').textContent = t('digest.since', {
    since: formatDue(digest.since),
    generated: formatDue(digest.generated_at),
  });
  const rows = document.getElementById('digest-rows');
  rows.replaceChildren();
  for (const { handover, entry } of digest.items) {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'digest-row';
    const state = label('handover_state', handover.state) + (handover.urgent ? ` · ${t('digest.urgent')}` : '');
    tr.append(
      cell(formatDue(handover.created_at)),
      cell(formatDue(handover.due_at)),
      cell(handover.legal_due_at ? formatDue(handover.legal_due_at) : ''),
      cell(state),
      cell(handover.created_by.name),
      cell(label('category', entry.category)),
      cell(subjectText(entry.subject)),
      cell(entry.summary),
      cell(handover.note, 'note'),
    );
    rows.append(tr);
  }
  document.getElementById('digest-table').hidden = digest.items.length === 0;
  document.getElementById('digest-status').textContent = digest.items.length ? '' : t('digest.empty');
}

async function main() {
  await setLanguage(detectLanguage());
  const status = document.getElementById('digest-status');
  if (!team) {
    status.textContent = t('digest.no_team');
    return;
  }
  const path = `/api/v1/teams/${encodeURIComponent(team)}/digest`;
  document.getElementById('digest-csv').href = `${path}?format=csv`;
  document.getElementById('digest-print').addEventListener('click', () => window.print());
  const response = await fetch(path, { credentials: 'same-origin' });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    status.textContent = t('digest.failed', { message: body.error?.message ?? response.status });
    return;
  }
  render(body, await teamName(body.team));
}

main();
