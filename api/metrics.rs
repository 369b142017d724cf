//! Prometheus metrics at `GET /metrics` on the admin listener (metrics + metrics-exporter-prometheus). Counters on hot paths are
//! recorded where they happen; gauges that mirror state (sockets, broker, pool) are read at scrape time.

use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::broker::BrokerState;
use crate::state::AppState;

const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// The process-wide recorder (installed once; tests start many apps in one process).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            // Histograms keep raw samples until upkeep folds them into buckets: do it even without scrapes.
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok();
            handle
        })
        .clone()
}

pub async fn render(app: web::Data<AppState>) -> HttpResponse {
    let hub = &app.realtime.hub;
    let stats = &hub.stats;
    metrics::gauge!("chat_open_sockets").set(hub.socket_count() as f64);
    metrics::counter!("chat_mailbox_shed_total").absolute(stats.shed_ephemeral.load(Ordering::Relaxed));
    metrics::counter!("chat_slow_consumer_closes_total").absolute(stats.slow_consumer_closes.load(Ordering::Relaxed));
    metrics::counter!("chat_frames_delivered_total").absolute(stats.delivered.load(Ordering::Relaxed));
    let state = app.realtime.broker.state();
    for candidate in [BrokerState::Local, BrokerState::Connected, BrokerState::Reconnecting] {
        metrics::gauge!("chat_broker_state", "state" => candidate.as_str()).set(if candidate == state {
            1.0
        } else {
            0.0
        });
    }
    metrics::counter!("chat_broker_reconnects_total").absolute(app.realtime.broker.reconnects());
    let (size, available) = app.db.status();
    metrics::gauge!("chat_db_pool_connections").set(size as f64);
    metrics::gauge!("chat_db_pool_idle").set(available as f64);
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(handle().render())
}
