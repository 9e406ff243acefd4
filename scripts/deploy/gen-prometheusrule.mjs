#!/usr/bin/env node
// Writes deploy/k8s/prometheusrule.yaml, the Prometheus Operator's copy of klaxon's alert
// rules, from deploy/prometheus/rules/klaxon.rules.yml, the one file where they are written
// and unit-tested (deploy/prometheus/tests/).
//
//   node scripts/deploy/gen-prometheusrule.mjs            write the file
//   node scripts/deploy/gen-prometheusrule.mjs --stdout   print it instead
//
// test/deploy/k8s.test.ts fails when the committed file differs from this script's output.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RULES = 'deploy/prometheus/rules/klaxon.rules.yml';
const OUT = 'deploy/k8s/prometheusrule.yaml';

const rules = parse(readFileSync(join(ROOT, RULES), 'utf8'));
if (!Array.isArray(rules?.groups) || rules.groups.length === 0) {
  throw new Error(`${RULES}: no rule groups`);
}

const resource = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'klaxon',
    labels: {
      'app.kubernetes.io/name': 'klaxon',
      'app.kubernetes.io/component': 'drift-monitor',
    },
  },
  spec: { groups: rules.groups },
};

const header = [
  `# GENERATED from ${RULES} by scripts/deploy/gen-prometheusrule.mjs: do not edit.`,
  '# Change the rules file, run the script, commit both.',
  "# Add the label your Prometheus' ruleSelector expects (kube-prometheus-stack: `release: <name>`).",
  '',
].join('\n');

const text = header + stringify(resource, { lineWidth: 0 });
if (process.argv.includes('--stdout')) {
  process.stdout.write(text);
} else {
  writeFileSync(join(ROOT, OUT), text);
  console.log(`wrote ${OUT}`);
}
