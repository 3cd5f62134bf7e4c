/**
 * `session.plan()` of webgpu-instancenorm/onnxruntime, written out for people: a summary line,
 * a table of the steps of a run (each ORT stretch with its ops, each normalization the library
 * took over with its fused epilogue, epsilon and the shape it last ran on), the nodes left to
 * ORT with the reason, and the plan itself as JSON.
 */
import type { LibraryStepPlan, OnnxSessionPlan, OrtStretchPlan } from '../src/onnxruntime';

const make = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
};

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
const dims = (shape: readonly number[]) => `[${shape.join(', ')}]`;

const EPILOGUE_NAMES: Record<string, string> = {
  Relu: 'Relu',
  LeakyRelu: 'LeakyRelu',
  SiLU: 'SiLU (Sigmoid + Mul)',
  Add: 'residual Add',
};

/** "InstanceNormalization + Relu", "GroupNorm (32 groups) + SiLU (Sigmoid + Mul) + residual Add". */
export function libraryStepTitle(step: LibraryStepPlan): string {
  const kind = step.groups !== undefined ? `${step.kind} (${plural(step.groups, 'group')})` : step.kind;
  return [kind, ...step.epilogue.map((part) => EPILOGUE_NAMES[part.kind] ?? part.kind)].join(' + ');
}

function libraryStepDetails(step: LibraryStepPlan): string {
  const parts = [
    `ε = ${Number(step.epsilon.toPrecision(3))}`,
    step.layout,
    ...(step.dataType ? [step.dataType] : []),
    ...(step.activation === 'leakyRelu' && step.activationAlpha !== undefined
      ? [`slope ${Number(step.activationAlpha.toPrecision(3))}`]
      : []),
    ...(step.residual !== undefined
      ? [`adds '${step.residual}' ${step.residualPosition === 'before-activation' ? 'before' : 'after'} the activation`]
      : []),
    ...(step.residualRanInOrt ? ['the last run’s residual broadcast: ORT ran the Add'] : []),
  ];
  return parts.join(', ');
}

/** "Conv ×2, Pad ×2, Constant ×12", most frequent first. */
function opsSummary(stretch: OrtStretchPlan): string {
  return Object.entries(stretch.ops)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([op, count]) => (count === 1 ? op : `${op} ×${count}`))
    .join(', ');
}

/** One line on what the plan does. */
export function planSummary(plan: OnnxSessionPlan): string {
  if (plan.mode === 'ort') return `ONNX Runtime ran the whole model as one session of its own: ${plan.reason}.`;
  const library = plan.steps.filter((s): s is LibraryStepPlan => s.runs === 'library');
  const stretches = plan.steps.length - library.length;
  const kinds = new Map<string, number>();
  for (const step of library) {
    const title = libraryStepTitle(step);
    kinds.set(title, (kinds.get(title) ?? 0) + 1);
  }
  const what = [...kinds].map(([title, n]) => `${n} × ${title}`).join('; ');
  return (
    `Spliced: ${plural(library.length, 'normalization')} run by this library (${what}), ` +
    `${plural(stretches, 'stretch', 'stretches')} of the graph run by ONNX Runtime as sessions of their own` +
    (plan.leftToOrt.length ? `; ${plural(plan.leftToOrt.length, 'node')} left to ONNX Runtime (below).` : '.')
  );
}

/** Fills `container` with the plan: summary, steps, nodes left to ORT, JSON. */
export function renderPlan(container: HTMLElement, plan: OnnxSessionPlan): void {
  const heading = make('h3', 'The plan: what ran where (session.plan())');
  const summary = make('p', planSummary(plan));
  summary.id = 'onnx-plan-summary';
  const children: HTMLElement[] = [heading, summary];

  if (plan.steps.length) {
    const table = make('table');
    table.id = 'onnx-plan-steps';
    const head = make('tr');
    head.append(make('th', '#'), make('th', 'Runs'), make('th', 'What'), make('th', 'Shape at the last run'));
    table.createTHead().append(head);
    const body = table.createTBody();
    plan.steps.forEach((step, i) => {
      const row = make('tr');
      row.dataset.runs = step.runs;
      const what = make('td');
      if (step.runs === 'library') {
        what.append(make('strong', libraryStepTitle(step)), make('br'), make('span', libraryStepDetails(step), 'muted'));
        what.title = step.nodes.join('\n');
      } else {
        what.append(
          make('span', `${plural(step.nodeCount, 'node')}: ${opsSummary(step)}`),
          make('br'),
          make('span', `reads ${step.inputs.join(', ') || 'nothing'}; hands on ${step.outputs.join(', ')}`, 'muted'),
        );
      }
      row.append(
        make('td', String(i + 1)),
        make('td', step.runs === 'library' ? 'this library' : 'ONNX Runtime'),
        what,
        make('td', step.runs === 'library' && step.shape ? dims(step.shape) : ''),
      );
      body.append(row);
    });
    children.push(table);
  }

  if (plan.leftToOrt.length) {
    children.push(make('p', 'Left to ONNX Runtime, though they looked like something the library takes over:'));
    const list = make('ul');
    list.id = 'onnx-plan-left';
    for (const left of plan.leftToOrt) {
      const item = make('li');
      item.append(make('code', left.node), ` (as ${left.kind}): ${left.reason}`);
      list.append(item);
    }
    children.push(list);
  }

  const raw = make('details', undefined, 'code');
  raw.append(make('summary', 'plan() as JSON'), make('pre', JSON.stringify(plan, null, 2)));
  children.push(raw);
  container.replaceChildren(...children);
  container.dataset.mode = plan.mode;
}
