// GraphQL operation counts, errors and durations by operation name (Yoga's Prometheus plugin), on the process's
// registry. Operation names come from the parsed document; a client could invent any number of them, so after the
// first 200 distinct names the rest share the name "other" (every name is a time series).
import {
  createCounter,
  createHistogram,
  type FillLabelsFnParams,
  usePrometheus,
} from "@graphql-yoga/plugin-prometheus";
import { metricsRegistry } from "../metrics/registry.ts";

const MAX_OPERATION_NAMES = 200;
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function boundedNames() {
  const seen = new Set<string>();
  return (name: string | undefined) => {
    const label = name ?? "Anonymous";
    if (seen.has(label)) return label;
    if (seen.size >= MAX_OPERATION_NAMES) return "other";
    seen.add(label);
    return label;
  };
}

export function useGraphQLMetrics() {
  const registry = metricsRegistry;
  const nameOf = boundedNames();
  const operationLabels = (params: FillLabelsFnParams) => ({
    operationName: nameOf(params.operationName),
    operationType: params.operationType ?? "unknown",
  });
  const labelNames = ["operationName", "operationType"] as const;
  return usePrometheus({
    registry,
    // Served by the gateway's own /metrics (behind the admin key or on METRICS_PORT), not by Yoga.
    endpoint: false,
    metrics: {
      graphql_envelop_request: createCounter({
        registry,
        counter: { name: "graphql_envelop_request", help: "GraphQL operations, by operation name", labelNames },
        fillLabelsFn: operationLabels,
      }),
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: {
          name: "graphql_envelop_request_duration",
          help: "Time to execute a GraphQL operation (seconds), by operation name",
          labelNames,
          buckets: DURATION_BUCKETS,
        },
        fillLabelsFn: operationLabels,
      }),
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: "graphql_envelop_error_result",
          help: "GraphQL operations that ended with errors, by operation name and phase",
          labelNames: [...labelNames, "phase"],
        },
        fillLabelsFn: (params) => ({ ...operationLabels(params), phase: params.errorPhase ?? "execute" }),
      }),
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: {
          name: "graphql_yoga_http_duration",
          help: "Time to answer a GraphQL HTTP request (seconds), by operation name, method and status",
          labelNames: [...labelNames, "method", "statusCode"],
          buckets: DURATION_BUCKETS,
        },
        fillLabelsFn: (params, { request, response }) => ({
          ...operationLabels(params),
          method: request.method,
          statusCode: response.status,
        }),
      }),
      // Off: per-phase and per-field series add little here and cost a series per field.
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
    },
  });
}
