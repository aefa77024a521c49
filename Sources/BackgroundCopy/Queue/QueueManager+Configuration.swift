import CoreMetrics
import Foundation
import Tracing

extension QueueManager {
    /// How hard each commit works to survive power loss.
    public enum Durability: Sendable, Hashable {
        /// `synchronous=FULL` (the default): every call that returned survives power loss.
        case full
        /// `synchronous=NORMAL`: faster commits; on power loss (not on a crash of the process) the
        /// last few committed calls may be lost. The database is never corrupted either way.
        case relaxed
    }

    /// Settings fixed when a queue is opened.
    public struct Configuration: Sendable {
        /// Commit durability; `.full` by default.
        public var durability: Durability = .full
        /// URL schemes files may be fetched from (lowercase); `http`, `https` and `file` by default.
        /// Absolute paths as remote names count as `file`.
        public var allowedSchemes: Set<String> = ["http", "https", "file"]
        /// If not empty, every local path must lie under one of these absolute directories.
        public var allowedRoots: [String] = []
        /// The smallest retry delay a group may set; 5 seconds by default (BITS' minimum). The
        /// engine never waits less than 1 second between tries, whatever this says, so a server
        /// that always fails is not asked again and again without pause.
        public var minimumRetryDelay: Duration = .seconds(5)
        /// The least the engine waits between tries of a file whatever ``minimumRetryDelay`` says:
        /// 1 s. Only tests lower it.
        package var retryDelayFloor: Duration = .seconds(1)
        /// How long a call waits for another process's write transaction before it fails; 5 s by default.
        public var busyTimeout: Duration = .seconds(5)
        /// The SQLite VFS to open the database with; `nil` for SQLite's default. For fault injection.
        public var sqliteVFS: String?
        /// The wall clock the queue stamps its rows with — creation, completion, cancellation,
        /// progress and retry times, which tombstone purges and retry waits compare against;
        /// `Date()` by default. Tests and simulations inject their own.
        public var wallClock: @Sendable () -> Date = { Date() }

        /// The most files the engine transfers at once, over all groups; 16 by default. Foreground
        /// groups run concurrently with one background group within this limit. Each HTTP transfer
        /// in flight has a connection of its own, so this is also the most connections the engine
        /// opens to one server: lower it for a server that limits connections per client.
        public var maxConcurrentTransfers: Int = 16
        /// How many files of one group may transfer at once; 8 by default, half of
        /// ``maxConcurrentTransfers``, so one busy group leaves room for a foreground group that
        /// comes later. Files still start in order (BITS transferred one at a time: set 1 for that).
        /// Files in flight share their claims, directory fsyncs and completion commits, so a group
        /// of many small files goes faster with more of them: 64 and 64 for a bulk download.
        public var maxFilesPerGroup: Int = 8
        /// Average bytes per second all background groups together may use; `nil` (the default)
        /// for no limit. Foreground groups are never throttled.
        public var backgroundBytesPerSecond: UInt64?
        /// A transfer commits its progress after this many bytes (4 MiB by default) …
        public var checkpointBytes: UInt64 = 4 << 20
        /// … or after this long (2 s by default), whichever comes first.
        public var checkpointInterval: Duration = .seconds(2)
        /// How long an HTTP connection may take to open; 10 s by default.
        public var connectTimeout: Duration = .seconds(10)
        /// How long an HTTP transfer may receive nothing before it fails (transiently); 60 s by default.
        public var readTimeout: Duration = .seconds(60)
        /// The low-speed limit (curl's `--speed-limit`): a transfer that receives fewer than this
        /// many bytes per second on average over ``lowSpeedTime`` fails transiently and is retried
        /// after the group's retry delay, so a server that trickles or stalls gives way, and a
        /// stalled background group lets the next one run. 1,024 by default; 0 turns it off. A
        /// throttled transfer is held to at most half its share of ``backgroundBytesPerSecond``.
        public var lowSpeedLimit: UInt64 = 1024
        /// How long a transfer may stay below ``lowSpeedLimit`` (curl's `--speed-time`); 60 s by
        /// default; zero turns the limit off.
        public var lowSpeedTime: Duration = .seconds(60)
        /// The most redirects one download follows; 10 by default.
        public var maxRedirects: Int = 10
        /// The longest wait between retries however often a file failed; 1 hour by default.
        /// Waits double from the group's retry delay up to this, with ±10 % jitter.
        public var maximumRetryDelay: Duration = .seconds(3600)
        /// Transports by lowercase URL scheme, for schemes beyond `http`, `https` and `file` or to
        /// replace the built-in ones. A scheme must also be in ``allowedSchemes``.
        public var transports: [String: any Transport] = [:]
        /// Asked for credentials before each HTTP request the engine sends to a file's own origin;
        /// `nil` (the default) sends none. Return `nil` to send a request without credentials.
        ///
        /// Credentials are never stored: the queue keeps no `Authorization` header (the validator
        /// refuses it as a custom header, and URLs with a user or password), the answer goes into
        /// one request and is dropped, and a redirect to another origin ends the sending of
        /// credentials and custom headers for that fetch. See ``CredentialRequest``.
        public var credentials: (@Sendable (CredentialRequest) async -> Credential?)?
        /// The proxies HTTP and HTTPS downloads go through; by default what the environment says
        /// (`http_proxy`, `https_proxy`, `no_proxy`: ``ProxySettings/environment(_:)``), read when
        /// the configuration is made. ``ProxySettings/none`` connects directly. Applies to the
        /// engine's own HTTP transport, not to one a host sets in ``transports``.
        public var proxies: ProxySettings = .environment()
        /// Space the engine leaves free on the file system of a local path; 64 MiB by default.
        /// A download whose announced size would eat into it is refused before a byte is written,
        /// and one of unknown size that reaches it is stopped; either way the group goes into error
        /// with `ENOSPC` and the temp file is removed.
        public var reservedFreeSpace: UInt64 = 64 << 20
        /// How often the engine looks for changes made by other processes (suspend, cancel, new
        /// work); 200 ms by default, so a transfer stops well within a second.
        public var changePollInterval: Duration = .milliseconds(200)
        /// How long a group's ``NotifyCommand`` may run before the engine stops it (SIGTERM to its
        /// process group, SIGKILL 2 s later) and records it as timed out; 5 minutes by default.
        /// Commands run one at a time, so a hung one delays the next by at most this much.
        public var notifyCommandTimeout: Duration = .seconds(300)
        /// Where the queue's metrics go (swift-metrics): counters, gauges and timers of the store's
        /// commits and the engine's transfers (<doc:HostingTheEngine#Metrics-and-traces> lists them).
        /// By default `MetricsSystem.factory`, read when the configuration is made: the backend the
        /// host bootstrapped, or swift-metrics' no-op handler, in which case the queue resolves no
        /// metric and reads no clock for one. Tests pass their own factory instead of bootstrapping.
        public var metricsFactory: any MetricsFactory = MetricsSystem.factory
        /// What records the engine's spans (swift-distributed-tracing): one per attempt at a file.
        /// By default `InstrumentationSystem.tracer`, read when the configuration is made (a no-op
        /// tracer unless the host bootstrapped one). Each span's parent is the `ServiceContext`
        /// current when ``QueueManager/run()`` started, not the one of the `addFiles` call: files
        /// may be added by another process, and the queue keeps no trace context in its rows.
        public var tracer: any Tracer = InstrumentationSystem.tracer

        /// The default configuration.
        public init() {}
    }
}
