//! The MQTT side of `neuride app run --mqtt`: one MQTT 5 connection
//! (`rumqttc`) that subscribes the app's `mqtt("topic")` sensors at QoS 1
//! (as `$share/GROUP/topic` with `--shared-group`), turns each message into
//! a reading in the run's inbox (a payload that does not parse is a bad
//! reading, not an error), and publishes the run's events at QoS 1 under
//! `--emit-topic PREFIX/<event>`.
//!
//! Nothing accepted is lost: messages are acknowledged only once they are
//! in the inbox, the session persists across reconnects (clean start off,
//! a session expiry), so a broker that restarts with persistence resends
//! what it had not delivered; a redelivery of a message already taken
//! (same packet id and content, DUP set) is acknowledged and skipped. The
//! connection is retried with back-off (100 ms doubling to 5 s) and the
//! run is told (a notice) when it goes and when it comes back.

use anyhow::{Context, bail};
use neuride_app::{Arrival, Inbox, Input, parse_payload};
use neuride_ide::run::app::TopicSensor;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Filter, Packet};
use rumqttc::v5::{Client, Connection, ConnectionError, Event, MqttOptions, RecvTimeoutError};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Requests (publishes, acks) queued for the connection at most.
const REQUEST_CAPACITY: usize = 100_000;
/// How long the session (and its queued messages) outlives a disconnect.
const SESSION_EXPIRY_S: u32 = 3600;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long the first connection may take before the run gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to connect and what to subscribe.
pub struct Settings {
    /// `mqtt://HOST:PORT` (or `HOST:PORT`).
    pub url: String,
    pub client_id: String,
    pub shared_group: Option<String>,
    pub topics: Vec<TopicSensor>,
}

/// A running connection.
pub struct Bridge {
    client: Client,
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    published: Arc<AtomicU64>,
    acknowledged: Arc<AtomicU64>,
    refused_publishes: u64,
}

/// `mqtt://host:port` to (host, port); the port defaults to 1883.
fn address(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url);
    if rest.contains("://") {
        bail!("--mqtt {url}: expected mqtt://HOST:PORT (TLS is not supported)");
    }
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .with_context(|| format!("--mqtt {url}: expected a port number, found `{port}`"))?,
        ),
        None => (rest, 1883),
    };
    if host.is_empty() {
        bail!("--mqtt {url}: expected mqtt://HOST:PORT, found no host");
    }
    Ok((host.to_owned(), port))
}

impl Bridge {
    /// Connects (waiting for the first connection: a broker that is not
    /// there is an error), subscribes, and starts feeding `inbox`.
    pub fn connect(
        settings: Settings,
        inbox: Arc<Inbox>,
        clock: impl Fn() -> Option<f64> + Send + 'static,
    ) -> anyhow::Result<Bridge> {
        let (host, port) = address(&settings.url)?;
        let mut options = MqttOptions::new(&settings.client_id, &host, port);
        options
            .set_clean_start(false)
            .set_session_expiry_interval(Some(SESSION_EXPIRY_S))
            .set_keep_alive(Duration::from_secs(5))
            .set_manual_acks(true)
            .set_connection_timeout(5);
        // Small packets go out at once: with Nagle's algorithm an event
        // published right after a reading's PUBACK waited for the broker's
        // delayed ACK (about 40 ms each way: 88 ms from publish to event).
        let mut network = options.network_options();
        network.set_tcp_nodelay(true);
        options.set_network_options(network);
        let (client, mut connection) = Client::new(options, REQUEST_CAPACITY);
        // The first connection, here: its failure is the command's error.
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            match connection.recv_timeout(Duration::from_millis(200)) {
                Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => break,
                Ok(Ok(_)) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Err(error)) => bail!(
                    "cannot connect to the MQTT broker at {host}:{port}: {}",
                    describe(&error)
                ),
                Err(RecvTimeoutError::Disconnected) => bail!("the MQTT connection closed"),
            }
            if Instant::now() > deadline {
                bail!("no answer from the MQTT broker at {host}:{port} within {CONNECT_TIMEOUT:?}");
            }
        }
        let filters: Vec<String> = settings
            .topics
            .iter()
            .map(|t| match &settings.shared_group {
                Some(group) => format!("$share/{group}/{}", t.topic),
                None => t.topic.clone(),
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let published = Arc::new(AtomicU64::new(0));
        let acknowledged = Arc::new(AtomicU64::new(0));
        let mut worker = Worker {
            client: client.clone(),
            inbox,
            topics: settings.topics,
            filters: filters.clone(),
            stop: stop.clone(),
            acknowledged: acknowledged.clone(),
            taken: HashMap::new(),
            clock: Box::new(clock),
        };
        // Always on the first connection: a resumed session (a client id
        // used before) may have been made with other topics. The run starts
        // once the broker has the subscription, so nothing published after
        // `started` is missed.
        subscribe(&client, &filters)?;
        while !filters.is_empty() {
            match connection.recv_timeout(Duration::from_millis(200)) {
                Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => break,
                // A resumed session may deliver before the acknowledgement.
                Ok(Ok(event)) => worker.handle(event),
                Err(RecvTimeoutError::Timeout) => {}
                Ok(Err(error)) => bail!(
                    "the MQTT broker at {host}:{port} went away while subscribing: {}",
                    describe(&error)
                ),
                Err(RecvTimeoutError::Disconnected) => bail!("the MQTT connection closed"),
            }
            if Instant::now() > deadline {
                bail!(
                    "the MQTT broker at {host}:{port} did not confirm the subscription within {CONNECT_TIMEOUT:?}"
                );
            }
        }
        let thread = std::thread::Builder::new()
            .name("neuride-mqtt".into())
            .spawn(move || worker.run(connection))
            .context("cannot start the MQTT thread")?;
        Ok(Bridge {
            client,
            thread: Some(thread),
            stop,
            published,
            acknowledged,
            refused_publishes: 0,
        })
    }

    /// Publishes `payload` at QoS 1 to `topic` (queued while the broker is
    /// away; counted when the queue is full).
    pub fn publish(&mut self, topic: String, payload: String) {
        match self
            .client
            .try_publish(topic, QoS::AtLeastOnce, false, payload.into_bytes())
        {
            Ok(()) => {
                self.published.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => self.refused_publishes += 1,
        }
    }

    /// Waits (up to `timeout`) for the broker to acknowledge every event
    /// published, disconnects, and says what could not be delivered.
    pub fn finish(mut self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let published = self.published.load(Ordering::Relaxed);
        while self.acknowledged.load(Ordering::Relaxed) < published && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut notes = Vec::new();
        let acknowledged = self.acknowledged.load(Ordering::Relaxed).min(published);
        if acknowledged < published {
            notes.push(format!(
                "{} of {published} published events were not acknowledged by the broker before the run ended",
                published - acknowledged
            ));
        }
        if self.refused_publishes > 0 {
            notes.push(format!(
                "{} events were not published: the MQTT request queue was full",
                self.refused_publishes
            ));
        }
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.client.try_disconnect();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        notes
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = self.client.try_disconnect();
            let _ = thread.join();
        }
    }
}

fn subscribe(client: &Client, filters: &[String]) -> anyhow::Result<()> {
    if filters.is_empty() {
        return Ok(());
    }
    let filters = filters
        .iter()
        .map(|f| Filter::new(f.clone(), QoS::AtLeastOnce));
    client
        .try_subscribe_many(filters)
        .context("cannot queue the MQTT subscription")
}

/// A connection error in words (the io error's own text when there is one).
fn describe(error: &ConnectionError) -> String {
    match error {
        ConnectionError::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// The connection's thread: messages into the inbox, reconnects.
struct Worker {
    client: Client,
    inbox: Arc<Inbox>,
    topics: Vec<TopicSensor>,
    filters: Vec<String>,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicU64>,
    /// Packet id -> hash of the message last taken with it, to skip a
    /// redelivery of a message whose acknowledgement was lost.
    taken: HashMap<u16, u64>,
    clock: Box<dyn Fn() -> Option<f64> + Send>,
}

impl Worker {
    fn run(mut self, mut connection: Connection) {
        let mut backoff = FIRST_BACKOFF;
        let mut down_since: Option<Instant> = None;
        while !self.stop.load(Ordering::Relaxed) {
            match connection.recv_timeout(Duration::from_millis(100)) {
                Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) => {
                    backoff = FIRST_BACKOFF;
                    if let Some(since) = down_since.take() {
                        self.inbox.notice(format!(
                            "reconnected to the MQTT broker after {:.1} s{}",
                            since.elapsed().as_secs_f64(),
                            if ack.session_present {
                                " (session resumed)"
                            } else {
                                " (new session: subscribed again)"
                            }
                        ));
                    }
                    if !ack.session_present {
                        let _ = subscribe(&self.client, &self.filters);
                    }
                }
                Ok(Ok(event)) => self.handle(event),
                Err(RecvTimeoutError::Timeout) => {}
                Ok(Err(error)) => {
                    if self.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if down_since.is_none() {
                        down_since = Some(Instant::now());
                        self.inbox.notice(format!(
                            "lost the MQTT broker ({}); reconnecting with back-off",
                            describe(&error)
                        ));
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    /// Messages become readings (then are acknowledged); acknowledgements
    /// of the events published are counted.
    fn handle(&mut self, event: Event) {
        match event {
            Event::Incoming(Packet::Publish(publish)) => {
                self.take(&publish);
                let _ = self.client.try_ack(&publish);
            }
            Event::Incoming(Packet::PubAck(_)) => {
                self.acknowledged.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// A message becomes a reading (or a bad reading) of its sensor.
    fn take(&mut self, publish: &rumqttc::v5::mqttbytes::v5::Publish) {
        let topic = String::from_utf8_lossy(&publish.topic);
        let Some(sensor) = self
            .topics
            .iter()
            .find(|t| rumqttc::v5::mqttbytes::matches(&topic, &t.topic))
        else {
            return;
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&publish.topic[..], &publish.payload[..]).hash(&mut hasher);
        let hash = hasher.finish();
        if publish.dup && self.taken.get(&publish.pkid) == Some(&hash) {
            return;
        }
        if publish.pkid != 0 {
            self.taken.insert(publish.pkid, hash);
        }
        let input = match parse_payload(&publish.payload) {
            Ok((values, source_t)) => Input::Values { values, source_t },
            Err(message) => Input::Bad(format!("{topic}: {message}")),
        };
        self.inbox.push(Arrival {
            sensor: sensor.sensor,
            t: (self.clock)(),
            input,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn broker_addresses() {
        assert_eq!(
            address("mqtt://127.0.0.1:1884").unwrap(),
            ("127.0.0.1".into(), 1884)
        );
        assert_eq!(
            address("broker.local").unwrap(),
            ("broker.local".into(), 1883)
        );
        assert!(
            address("mqtts://h:1")
                .unwrap_err()
                .to_string()
                .contains("TLS")
        );
        assert!(
            address("mqtt://h:port")
                .unwrap_err()
                .to_string()
                .contains("`port`")
        );
        assert!(address("mqtt://:1").is_err());
    }
}
