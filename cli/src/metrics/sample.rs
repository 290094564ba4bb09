//! One sample of a metric family, and how a run changes it.

/// A family's type, as the `# TYPE` line says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A count that only grows (kept across runs).
    Counter,
}

impl Kind {
    /// The word of the `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        }
    }
}

/// What a run does to a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Update {
    /// Sets it.
    Set(f64),
    /// Adds to what the file holds (a counter: failures so far).
    Add(f64),
}

/// One sample: a family's name, help and type, its labels, and its update.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `schemactl_run_last_success`.
    pub name: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
    /// Gauge or counter.
    pub kind: Kind,
    /// Label names and values, in order.
    pub labels: Vec<(&'static str, String)>,
    /// The change.
    pub update: Update,
}

impl Sample {
    /// A gauge set to `value`.
    pub fn gauge(
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        value: f64,
    ) -> Self {
        Self {
            name,
            help,
            kind: Kind::Gauge,
            labels: labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            update: Update::Set(value),
        }
    }

    /// A counter increased by `by`.
    pub fn counter(
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        by: f64,
    ) -> Self {
        Self {
            name,
            help,
            kind: Kind::Counter,
            labels: labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            update: Update::Add(by),
        }
    }
}
