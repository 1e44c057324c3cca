// The room's page. With the presenter's key in the address (#key=...), the
// live grid: every attendee by step, green when all of a step's tests pass,
// amber when some do, red when none do; how many are done with the step most
// of the room is on; and the failing test most of them share, with its hint.
// Changes arrive as server-sent events, read with fetch so that the key goes
// in a header, never in an address. Every name is drawn as text.
'use strict';

const hash = new URLSearchParams(location.hash.slice(1));
const key = hash.get('key') || (location.hash.includes('=') ? '' : location.hash.slice(1));
const byId = (id) => document.getElementById(id);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

if (!key) {
  byId('attendee').hidden = false;
  byId('attendee-command').textContent =
    `npm run join -- ${location.origin} <code> --name "Your Name"`;
} else {
  byId('presenter').hidden = false;
  const state = { room: undefined, attendees: new Map(), pinned: undefined };

  const setStatus = (text, kind) => {
    const status = byId('status');
    status.textContent = text;
    status.className = kind;
  };

  const handle = (frame) => {
    let event = 'message';
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trimStart();
    }
    if (!data) return;
    const body = JSON.parse(data);
    if (event === 'snapshot') {
      state.room = body.room;
      state.attendees = new Map(body.attendees.map((a) => [a.id, a]));
    } else if (event === 'update') {
      for (const a of body.attendees) state.attendees.set(a.id, a);
      for (const id of body.left) state.attendees.delete(id);
    }
    render(state);
  };

  const connect = async () => {
    try {
      const response = await fetch('/api/events', {
        headers: { Authorization: `Bearer ${key}` },
        cache: 'no-store',
      });
      if (response.status === 401 || response.status === 403) {
        setStatus(
          "This address's key is not the room's: open the one npm run room printed.",
          'bad',
        );
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      setStatus('live', 'live');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n/g, '\n');
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          handle(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // the room stopped or the network dropped: try again below
    }
    setStatus('The room does not answer: trying again...', 'bad');
    setTimeout(connect, 1000);
  };

  byId('steps').addEventListener('click', (event) => {
    const step = event.target.closest('th')?.dataset.step;
    if (step === undefined) return;
    state.pinned = state.pinned === Number(step) ? undefined : Number(step);
    render(state);
  });

  connect();
}

/** An attendee's latest result, whatever its step (of one check of several steps, the last). */
const latest = (attendee) =>
  attendee.results.reduce(
    (last, r) => (last === undefined || r.at >= last.at ? r : last),
    undefined,
  );

const colour = (r) => (r.failed === 0 ? 'done' : r.passed === 0 ? 'none' : 'some');

/** The step most attendees checked last (the later one on a tie). */
function currentStep(attendees) {
  const counts = new Map();
  for (const a of attendees) {
    const r = latest(a);
    if (r) counts.set(r.step, (counts.get(r.step) ?? 0) + 1);
  }
  let best;
  for (const [step, n] of counts)
    if (best === undefined || n > counts.get(best) || (n === counts.get(best) && step > best))
      best = step;
  return best;
}

/** The failing test most attendees share in what they checked last, with its hint. */
function mostShared(attendees) {
  const groups = new Map();
  for (const a of attendees) {
    const r = latest(a);
    for (const f of r?.failing ?? []) {
      const id = `${r.step}\n${f.name}`;
      const group = groups.get(id) ?? { step: r.step, name: f.name, hint: f.hint, who: new Set() };
      group.who.add(a.id);
      groups.set(id, group);
    }
  }
  let best;
  for (const g of groups.values()) if (!best || g.who.size > best.who.size) best = g;
  return best;
}

function render(state) {
  const { room, pinned } = state;
  if (!room) return;
  const attendees = [...state.attendees.values()].sort((a, b) => (a.joined < b.joined ? -1 : 1));
  const command = byId('join-command');
  command.textContent = `npm run join -- ${room.join} ${room.code}`;
  document.title = `The room: ${attendees.length} joined`;

  const k = pinned ?? currentStep(attendees);
  const title = room.steps.find((s) => s.number === k)?.title;
  const done = attendees.filter((a) => {
    const r = a.results.find((x) => x.step === k);
    return r && r.failed === 0 && r.passed > 0;
  }).length;
  const pace = byId('pace');
  if (attendees.length === 0) pace.textContent = 'Nobody has joined yet.';
  else if (k === undefined) pace.textContent = `${attendees.length} joined, no check yet.`;
  else {
    pace.replaceChildren(
      element('strong', '', `${done} of ${attendees.length} done with step ${k}`),
      element('span', 'title', ` ${title ?? ''}${pinned === undefined ? '' : ' (chosen)'}`),
    );
  }

  const shared = byId('shared');
  const top = mostShared(attendees);
  if (!top) shared.replaceChildren(element('span', 'quiet', 'No failing test right now.'));
  else {
    const hintTitle = top.hint === null ? undefined : room.hints[top.step]?.[top.hint];
    shared.replaceChildren(
      element(
        'span',
        'label',
        `Failing for ${top.who.size} of ${attendees.length} on step ${top.step}:`,
      ),
      element('span', 'test', ` ${top.name}`),
      ...(top.hint === null
        ? []
        : [
            element('br'),
            element(
              'span',
              'hint',
              `Hint ${top.hint}${hintTitle ? `, "${hintTitle}"` : ''}: npm run hint ${top.step} ${top.hint}`,
            ),
          ]),
    );
  }

  const head = [element('th', 'name', `Attendees (${attendees.length})`)];
  for (const s of room.steps) {
    const th = element(
      'th',
      s.number === k ? 'step current' : 'step',
      String(s.number).padStart(2, '0'),
    );
    th.dataset.step = String(s.number);
    th.title = `Step ${s.number}: ${s.title} (click to follow this step)`;
    head.push(th);
  }
  byId('steps').replaceChildren(...head);

  const rows = attendees.map((a) => {
    const row = element('tr');
    row.append(element('td', 'name', a.name));
    for (const s of room.steps) {
      const r = a.results.find((x) => x.step === s.number);
      const cell = element('td', r ? `cell ${colour(r)}` : 'cell');
      if (s.number === k) cell.classList.add('current');
      if (r) {
        cell.textContent = `${r.passed}/${r.passed + r.failed}`;
        if (r.part) cell.append(element('small', '', r.part));
        cell.title = r.failing.map((f) => f.name).join('\n') || 'every test passes';
      }
      row.append(cell);
    }
    return row;
  });
  byId('attendees').replaceChildren(...rows);
}
