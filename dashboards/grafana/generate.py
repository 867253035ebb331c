"""Writes the Grafana dashboards (grafana-clickhouse-datasource) in this directory: python3 dashboards/grafana/generate.py.
Edit the panels here, regenerate, and run test/integration/grafana-queries.test.ts (every query runs against the schema)."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "grafana-clickhouse-datasource", "uid": "${datasource}"}
WIN = "JSONExtractRaw(statistics, 'window') NOT IN ('', 'null')"
DECAY = "JSONExtractRaw(statistics, 'decay') NOT IN ('', 'null')"
# A half-life is shown only when the fit has the evidence for one: detectors/decay/evidence.ts (halfLifeEvidence).
HALF_LIFE_EVIDENCE = ("JSONExtractString(statistics, 'decay', 'model') = 'exponential' AND JSONExtractUInt(statistics, 'decay', 'n') >= 4"
                      " AND JSONExtract(statistics, 'decay', 'halfLifeInterval', 'upper', 'Nullable(Float64)') IS NOT NULL")
# The figure the cost-aware rule compared with retrain + risk (detectors/texts/economics-statement.ts).
DECIDING_FIGURE = """multiIf(JSONExtractString(statistics, 'economics', 'rule') = 'forecast', JSONExtractFloat(statistics, 'economics', 'restartValue'),
  JSONExtractString(statistics, 'economics', 'rule') = 'cumulative', JSONExtract(statistics, 'economics', 'accumulatedStalenessCost', 'Nullable(Float64)'),
  JSONExtractString(statistics, 'economics', 'rule') = 'step', JSONExtract(statistics, 'economics', 'step', 'value', 'Nullable(Float64)'), NULL)"""

def target(sql, fmt="table", ref="A"):
    return {"datasource": DS, "editorType": "sql", "format": 1 if fmt == "table" else 0, "queryType": fmt, "rawSql": " ".join(sql.split()), "refId": ref}

pid = [0]
def panel(title, kind, sql, x, y, w, h, desc="", unit=None, fmt=None, extra=None, targets=None):
    pid[0] += 1
    fmt = fmt or ("timeseries" if kind in ("timeseries", "status-history", "barchart") else "table")
    p = {"id": pid[0], "type": kind, "title": title, "description": desc, "datasource": DS,
         "gridPos": {"x": x, "y": y, "w": w, "h": h},
         "targets": targets or [target(sql, fmt)],
         "fieldConfig": {"defaults": {}, "overrides": []}, "options": {}}
    if unit: p["fieldConfig"]["defaults"]["unit"] = unit
    if extra:
        for k, v in extra.items():
            if k == "defaults": p["fieldConfig"]["defaults"].update(v)
            elif k == "overrides": p["fieldConfig"]["overrides"] = v
            else: p[k] = v
    return p

def dashboard(uid, title, desc, panels, variables):
    return {
        "__inputs": [], "__requires": [{"type": "datasource", "id": "grafana-clickhouse-datasource", "name": "ClickHouse", "version": "4.0.0"}],
        "uid": uid, "title": title, "description": desc, "tags": ["halflife"], "timezone": "utc", "schemaVersion": 39, "version": 1,
        "editable": True, "graphTooltip": 1, "refresh": "30s", "time": {"from": "now-7d", "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "ClickHouse", "type": "datasource", "query": "grafana-clickhouse-datasource", "current": {}, "hide": 0}] + variables},
        "annotations": {"list": []}, "links": [], "panels": panels,
    }

model_var = {"name": "model", "label": "Model", "type": "query", "datasource": DS, "refresh": 1, "sort": 1, "multi": False, "includeAll": False,
             "query": "SELECT DISTINCT model_id FROM decisions UNION DISTINCT SELECT DISTINCT model_id FROM model_versions ORDER BY model_id", "definition": "models from decisions and model_versions"}
ui_var = {"name": "temporal_ui", "label": "Temporal UI", "type": "textbox", "query": "http://127.0.0.1:8233", "current": {"value": "http://127.0.0.1:8233", "text": "http://127.0.0.1:8233"}, "hide": 0}
ns_var = {"name": "namespace", "label": "Temporal namespace", "type": "textbox", "query": "default", "current": {"value": "default", "text": "default"}, "hide": 0}

health = f"""multiIf(JSONExtract(statistics, 'window', 'dataQualityOk', 'Nullable(Bool)') = false, 'data-quality',
  JSONExtract(statistics, 'decay', 'timeToBreach', 'hours', 'Nullable(Float64)') = 0, 'degraded',
  JSONExtract(statistics, 'drift', 'dataset_drift', 'Nullable(Bool)') = true, 'drifting', 'healthy')"""

fleet_table = f"""
SELECT w.model_id AS model, v.production AS serving, w.health AS health,
  round(w.quality * 100, 1) AS quality_pct, w.quality_source AS quality_source,
  round(f.half_life_h, 1) AS half_life_h, round(f.half_life_lower_h, 1) AS half_life_lower_h, round(f.half_life_upper_h, 1) AS half_life_upper_h,
  round(greatest(0, f.breach_h - dateDiff('second', f.fitted_at, now64(3)) / 3600), 1) AS time_to_slo_breach_h,
  d.kind AS last_decision, d.decided_at AS last_decision_at, d.reason AS last_reason
FROM (
  SELECT model_id, decided_at, JSONExtractFloat(statistics, 'window', 'quality', 'value') AS quality,
    JSONExtractString(statistics, 'window', 'quality', 'source') AS quality_source, {health} AS health
  FROM decisions FINAL WHERE {WIN} ORDER BY decided_at DESC LIMIT 1 BY model_id
) AS w
LEFT JOIN (
  SELECT model_id, decided_at AS fitted_at, {HALF_LIFE_EVIDENCE} AS evidence,
    if(evidence, JSONExtract(statistics, 'decay', 'halfLifeHours', 'Nullable(Float64)'), NULL) AS half_life_h,
    if(evidence, JSONExtract(statistics, 'decay', 'halfLifeInterval', 'lower', 'Nullable(Float64)'), NULL) AS half_life_lower_h,
    if(evidence, JSONExtract(statistics, 'decay', 'halfLifeInterval', 'upper', 'Nullable(Float64)'), NULL) AS half_life_upper_h,
    if(evidence, JSONExtract(statistics, 'decay', 'timeToBreach', 'hours', 'Nullable(Float64)'), NULL) AS breach_h
  FROM decisions FINAL WHERE {DECAY} ORDER BY decided_at DESC LIMIT 1 BY model_id
) AS f ON f.model_id = w.model_id
LEFT JOIN (SELECT model_id, decided_at, kind, reason FROM decisions FINAL ORDER BY decided_at DESC LIMIT 1 BY model_id) AS d ON d.model_id = w.model_id
LEFT JOIN (SELECT model_id, anyIf(version, stage = 'production') AS production FROM model_versions FINAL GROUP BY model_id) AS v ON v.model_id = w.model_id
ORDER BY model"""

fleet_panels = [
    panel("Models", "table", fleet_table, 0, 0, 24, 8,
          "Every monitored model: serving version, health (as the monitor derives it), quality of the last window, half-life with its interval, predicted time to SLO breach (from now), last decision.",
          extra={"overrides": [
              {"matcher": {"id": "byName", "options": "health"}, "properties": [{"id": "custom.cellOptions", "value": {"type": "color-background"}}, {"id": "mappings", "value": [{"type": "value", "options": {"healthy": {"color": "green"}, "drifting": {"color": "orange"}, "degraded": {"color": "red"}, "data-quality": {"color": "purple"}}}]}]},
              {"matcher": {"id": "byName", "options": "quality_pct"}, "properties": [{"id": "unit", "value": "percent"}]},
              {"matcher": {"id": "byRegexp", "options": "half_life.*|time_to_slo_breach_h"}, "properties": [{"id": "unit", "value": "h"}]},
              {"matcher": {"id": "byName", "options": "model"}, "properties": [{"id": "links", "value": [{"title": "model detail", "url": "/d/halflife-model?var-model=${__value.raw}&${datasource:queryparam}"}]}]}]}),
    panel("Quality by model (%)", "timeseries", f"""
SELECT $__timeInterval(decided_at) AS time, model_id, avg(JSONExtractFloat(statistics, 'window', 'quality', 'value')) * 100 AS quality
FROM decisions FINAL WHERE $__timeFilter(decided_at) AND {WIN} AND JSONExtract(statistics, 'window', 'quality', 'value', 'Nullable(Float64)') IS NOT NULL
GROUP BY time, model_id ORDER BY time""", 0, 8, 12, 8, "Quality of each evaluated window (realised from labels, else estimated).", unit="percent"),
    panel("Half-life by model (hours)", "timeseries", f"""
SELECT $__timeInterval(decided_at) AS time, model_id, avg(JSONExtractFloat(statistics, 'decay', 'halfLifeHours')) AS half_life_h
FROM decisions FINAL WHERE $__timeFilter(decided_at) AND {DECAY} AND {HALF_LIFE_EVIDENCE}
GROUP BY time, model_id ORDER BY time""", 12, 8, 12, 8, "Half-life of the serving version's latest decay fit at each decision, once the fit has the evidence for one (an exponential fit from 4 or more windows with a bounded interval).", unit="h"),
    panel("Decisions by kind", "barchart", """
SELECT $__timeInterval(decided_at) AS time, kind, count() AS decisions
FROM decisions FINAL WHERE $__timeFilter(decided_at) AND kind != 'no-action' GROUP BY time, kind ORDER BY time""", 0, 16, 12, 8, "Retrains, promotions, rejections, blocks… ('no action' left out).", unit="short", fmt="timeseries",
          extra={"options": {"stacking": "normal", "xTickLabelSpacing": 100}}),
    panel("Retraining last 7 days", "stat", None, 12, 16, 6, 8, "Retrains asked for, promoted and rejected in the last 7 days, all models.",
          targets=[target("""SELECT countIf(kind IN ('retrain', 'force-retrain')) AS retrains, countIf(kind = 'promote') AS promoted, countIf(kind IN ('reject', 'rollback', 'training-failed')) AS rejected
FROM decisions FINAL WHERE decided_at >= now64(3) - INTERVAL 7 DAY""")]),
    panel("Dead letters by model", "timeseries", """
SELECT $__timeInterval(received_at) AS time, if(model_id = '', '(unknown model)', model_id) AS model, count() AS dead_letters
FROM dead_letters FINAL WHERE $__timeFilter(received_at) GROUP BY time, model ORDER BY time""", 18, 16, 6, 8, "Records that failed validation, per interval.", unit="short"),
    panel("Scoring events by model", "timeseries", """
SELECT $__timeInterval(ts) AS time, model_id, count() AS events
FROM scoring_events WHERE $__timeFilter(ts) GROUP BY time, model_id ORDER BY time""", 0, 24, 24, 7, "Scored events landed per interval (before de-duplication by FINAL; ingest already de-duplicates).", unit="short"),
]

M = "model_id = '${model}'"
drift_rows = f"""
SELECT decided_at AS time, JSONExtractString(f, 'name') AS feature, JSONExtractFloat(f, 'jensen_shannon') AS js
FROM decisions FINAL ARRAY JOIN JSONExtractArrayRaw(statistics, 'drift', 'features') AS f
WHERE {M} AND $__timeFilter(decided_at) AND {WIN} ORDER BY time"""

model_panels = [
    panel("Quality per version (%)", "timeseries", f"""
SELECT decided_at AS time, model_version AS version, JSONExtractFloat(statistics, 'window', 'quality', 'value') * 100 AS quality
FROM decisions FINAL WHERE {M} AND $__timeFilter(decided_at) AND {WIN} AND JSONExtract(statistics, 'window', 'quality', 'value', 'Nullable(Float64)') IS NOT NULL
ORDER BY time""", 0, 0, 12, 9, "Quality of each monitor window (the cadence the monitor runs at), one series per serving version.", unit="percent",
          extra={"defaults": {"custom": {"drawStyle": "line", "showPoints": "always", "pointSize": 4}}}),
    panel("Decay fit: half-life with interval (hours)", "timeseries", None, 12, 0, 12, 9, "Half-life of the serving version's decay fit at each decision, with its profile-likelihood interval (lower/upper).", unit="h",
          targets=[target(f"""SELECT decided_at AS time, JSONExtractFloat(statistics, 'decay', 'halfLifeHours') AS half_life_h,
  JSONExtract(statistics, 'decay', 'halfLifeInterval', 'lower', 'Nullable(Float64)') AS lower_h,
  JSONExtract(statistics, 'decay', 'halfLifeInterval', 'upper', 'Nullable(Float64)') AS upper_h
FROM decisions FINAL WHERE {M} AND $__timeFilter(decided_at) AND {DECAY} AND {HALF_LIFE_EVIDENCE} ORDER BY time""", "timeseries")]),
    panel("Predicted time to SLO breach (hours)", "timeseries", f"""
SELECT decided_at AS time, JSONExtract(statistics, 'decay', 'timeToBreach', 'hours', 'Nullable(Float64)') AS hours_to_breach,
  JSONExtract(statistics, 'decay', 'timeToBreach', 'interval', 'lower', 'Nullable(Float64)') AS lower_h,
  JSONExtract(statistics, 'decay', 'timeToBreach', 'interval', 'upper', 'Nullable(Float64)') AS upper_h
FROM decisions FINAL WHERE {M} AND $__timeFilter(decided_at) AND {DECAY} AND {HALF_LIFE_EVIDENCE} ORDER BY time""", 0, 9, 12, 8, "At each decision: hours until the decay fit predicts quality crosses the SLO (0 = breached), once the fit has the evidence for a half-life.", unit="h"),
    panel("Retrain economics", "timeseries", f"""
SELECT decided_at AS time, {DECIDING_FIGURE} AS deciding_figure,
  JSONExtractFloat(statistics, 'economics', 'retrainCost') + JSONExtractFloat(statistics, 'economics', 'riskCost') AS retrain_plus_risk_cost
FROM decisions FINAL WHERE {M} AND $__timeFilter(decided_at) AND JSONExtractRaw(statistics, 'economics') NOT IN ('', 'null') ORDER BY time""", 12, 9, 12, 8, "The figure the cost-aware rule compared with retrain + risk at each decision — what restarting the version is worth (forecast rule), the staleness accumulated since the last retrain (cumulative rule: a signed sum, one standard error low, so it can be negative), or the priced step (step rule): retraining pays when it is above retrain + risk.", unit="short"),
    panel("Drift by feature (Jensen–Shannon distance)", "status-history", drift_rows, 0, 17, 24, 9,
          "Features × windows, colour = Jensen–Shannon distance (base 2) of the window against the reference; the drift threshold is 0.1.", fmt="timeseries",
          extra={"defaults": {"color": {"mode": "thresholds"}, "thresholds": {"mode": "absolute", "steps": [{"color": "#e9f0f7", "value": None}, {"color": "#ffe08c", "value": 0.05}, {"color": "#f59f00", "value": 0.1}, {"color": "#e8590c", "value": 0.2}, {"color": "#b01e1e", "value": 0.3}]}, "decimals": 3},
                 "options": {"showValue": "never", "rowHeight": 0.9}}),
    panel("Drifted features share", "timeseries", f"""
SELECT decided_at AS time, JSONExtractFloat(statistics, 'drift', 'share_drifted') * 100 AS drifted_share
FROM decisions FINAL WHERE {M} AND $__timeFilter(decided_at) AND JSONExtractRaw(statistics, 'drift') NOT IN ('', 'null') ORDER BY time""", 0, 26, 8, 8, "Share of tested features that drifted (dataset drift at 50%).", unit="percent"),
    panel("Missing rate by feature (%)", "timeseries", f"""
SELECT decided_at AS time, JSONExtractString(f, 'name') AS feature, JSONExtractFloat(f, 'missing_rate') * 100 AS missing_rate
FROM decisions FINAL ARRAY JOIN JSONExtractArrayRaw(statistics, 'dataQuality', 'features') AS f
WHERE {M} AND $__timeFilter(decided_at) AND {WIN} ORDER BY time""", 8, 26, 8, 8, "Data quality per window: missing values per feature.", unit="percent"),
    panel("Ingest: events, labels, dead letters", "timeseries", None, 16, 26, 8, 8, "Scored events, labelled events and dead letters per interval.", unit="short",
          targets=[target(f"""SELECT $__timeInterval(ts) AS time, count() AS events FROM scoring_events FINAL WHERE {M} AND $__timeFilter(ts) GROUP BY time ORDER BY time""", "timeseries", "A"),
                   target(f"""SELECT $__timeInterval(e.ts) AS time, count() AS labelled FROM (SELECT event_id, ts FROM scoring_events FINAL WHERE {M} AND $__timeFilter(ts)) AS e INNER JOIN (SELECT DISTINCT event_id FROM labels) AS l USING (event_id) GROUP BY time ORDER BY time""", "timeseries", "B"),
                   target(f"""SELECT $__timeInterval(received_at) AS time, count() AS dead_letters FROM dead_letters FINAL WHERE {M} AND $__timeFilter(received_at) GROUP BY time ORDER BY time""", "timeseries", "C")]),
    panel("Decisions", "table", f"""
SELECT decided_at AS time, kind, model_version AS version, actor, reason, policy_name, policy_version, policy_hash, workflow_id, run_id, decision_id
FROM decisions FINAL WHERE {M} AND $__timeFilter(decided_at) AND (kind != 'no-action' OR decided_at = (SELECT max(decided_at) FROM decisions WHERE {M}))
ORDER BY time DESC LIMIT 500""", 0, 34, 24, 9, "Every decision but 'no action' (the latest one is kept), with its policy and a link to the workflow run in the Temporal UI. `halflife explain <decision id>` or the web dashboard show the full provenance.",
          extra={"overrides": [{"matcher": {"id": "byName", "options": "workflow_id"}, "properties": [{"id": "links", "value": [{"title": "open in Temporal UI", "url": "${temporal_ui}/namespaces/${namespace}/workflows/${__value.raw}/${__data.fields.run_id}", "targetBlank": True}]}]}]}),
    panel("Shadow / canary comparisons", "table", f"""
SELECT d.decided_at AS time, d.kind AS verdict_kind, d.model_version AS challenger, JSONExtractString(d.details, 'championVersion') AS champion,
  JSONExtractString(d.verdict, 'decision') AS verdict, JSONExtractString(d.verdict, 'statistics', 'metric') AS metric,
  JSONExtractFloat(d.verdict, 'statistics', 'improvement', 'improvement') AS improvement,
  JSONExtractFloat(d.verdict, 'statistics', 'improvement', 'lower') AS ci_lower,
  JSONExtractFloat(d.verdict, 'statistics', 'improvement', 'upper') AS ci_upper,
  JSONExtractFloat(d.verdict, 'statistics', 'bar') AS bar,
  s.n AS shadow_events, round(s.acc_champion * 100, 2) AS champion_accuracy_pct, round(s.acc_challenger * 100, 2) AS challenger_accuracy_pct
FROM (
  SELECT decided_at, kind, model_version, details,
    if(JSONExtractRaw(statistics, 'verdict') NOT IN ('', 'null'), JSONExtractRaw(statistics, 'verdict'), JSONExtractRaw(statistics, 'shadow', 'verdict')) AS verdict
  FROM decisions FINAL WHERE {M} AND kind IN ('promote', 'reject', 'rollback') AND $__timeFilter(decided_at)
) AS d
LEFT JOIN (
  SELECT candidate_version, count() AS n, avg((champion_score >= 0.5) = (label = 1)) AS acc_champion, avg((candidate_score >= 0.5) = (label = 1)) AS acc_challenger
  FROM shadow_results FINAL WHERE {M} GROUP BY candidate_version
) AS s ON s.candidate_version = d.model_version
ORDER BY time DESC""", 0, 43, 24, 7, "Challenger vs champion on the same events: the improvement the promotion test used with its confidence interval and the bar it had to clear, and each side's accuracy on the shadow events."),
    panel("Versions", "table", f"""
SELECT version, stage, created_at AS trained_at, promoted_at, parent_version, trainer, stage_reason, lineage_id
FROM model_versions FINAL WHERE {M} ORDER BY toUInt64OrZero(substring(version, 2)) DESC""", 0, 50, 12, 7, "Registry: every version and its current stage."),
    panel("Dead letters (reasons)", "table", f"""
SELECT reason, error_path, count() AS records, max(received_at) AS last_seen
FROM dead_letters FINAL WHERE {M} AND $__timeFilter(received_at) GROUP BY reason, error_path ORDER BY records DESC LIMIT 50""", 12, 50, 12, 7, "Why records were dead-lettered, most common first."),
]

fleet = dashboard("halflife-fleet", "halflife — fleet overview", "Every model halflife monitors: health, quality, half-life, time to SLO breach, decisions and ingest. Built on halflife's ClickHouse tables; set the data source's default database to halflife's (default `halflife`).", fleet_panels, [])
pid[0] = 0
model = dashboard("halflife-model", "halflife — model detail", "One model: quality and decay, drift, data quality, ingest and dead letters, decisions with provenance links, shadow/canary comparisons.", model_panels, [model_var, ui_var, ns_var])
for name, board in (('fleet-overview.json', fleet), ('model-detail.json', model)):
    with open(os.path.join(HERE, name), 'w') as out:
        json.dump(board, out, indent=2, ensure_ascii=False)
        out.write('\n')
