import Foundation
import Synchronization

/// A throwaway PostgreSQL server for tests: its own data directory, `initdb`-ed on the spot and
/// served on 127.0.0.1 at a free port, stopped and deleted when done. Tests never need a server
/// already running, only Debian's `postgresql` package (or any PostgreSQL 13+ whose `initdb`,
/// `pg_ctl`, `psql` and `pg_dump` are found; see ``binDirectory()``).
///
/// ```swift
/// let cluster = try PostgresCluster.shared()          // one per test process, stopped at exit
/// let database = try cluster.createDatabase()         // one fresh database per test
/// // connect to cluster.host:cluster.port as cluster.user (trust authentication), database `database`
/// ```
///
/// **Root.** `initdb` and `postgres` refuse to run as root, and CI runs the tests as root, so when
/// the process is root every server command runs as `nobody:nogroup` (`setpriv --reuid=nobody
/// --regid=nogroup --clear-groups`), in a directory that user owns.
///
/// **Settings.** Loopback TCP only (no Unix socket), trust authentication for the one superuser
/// `postgres`, and for speed only what does not weaken what the tests check: `fsync`,
/// `synchronous_commit` and `full_page_writes` stay on (durability is what the queue promises);
/// `wal_level=minimal`, no WAL senders, no autovacuum, no JIT, small shared buffers; `initdb
/// --no-sync` (the cluster is thrown away, so the flush of its template files buys nothing).
///
/// **Lifetime.** ``stop()`` runs `pg_ctl stop -m fast` and removes the directory. A watchdog shell
/// does the same within a second if this process dies first (crash, SIGKILL), so a failed test run
/// never leaves a server behind.
///
/// Starting and stopping block the calling thread (a few seconds for `initdb`); call them from a
/// test's setup, not from a hot path.
public final class PostgresCluster: Sendable {
    /// The address the server listens on.
    public let host = "127.0.0.1"
    /// The port the server listens on.
    public let port: Int
    /// The superuser to connect as (trust authentication: no password).
    public let user = "postgres"
    /// The cluster's own directory: `data/` (the cluster), `server.log`.
    public let directory: String
    /// Where the server programs were found.
    public let binaries: String
    /// How long `initdb` plus the start until the server accepted connections took.
    public let startupDuration: Duration
    private let runAs: [String]
    private let stopped = Mutex(false)
    private let databases = Atomic<Int>(0)

    /// The failure to start or use a cluster, saying what to do about it.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Where Debian puts the server programs, one folder per major version.
    public static let debianRoot = "/usr/lib/postgresql"

    /// Initialises and starts a new cluster; returns once it accepts connections. Tries up to five
    /// free ports (another process may take the one chosen before the server binds it).
    ///
    /// - Throws: ``Failure`` naming the apt package when the server programs are missing, or with
    ///   the server's log when it does not start within `timeout`.
    public static func start(timeout: Duration = .seconds(60)) throws(Failure) -> PostgresCluster {
        let clock = ContinuousClock()
        let began = clock.now
        let binaries = try binDirectory()
        let runAs = geteuid() == 0 ? ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] : []
        let directory = try makeDirectory(ownedByNobody: !runAs.isEmpty)
        let data = directory + "/data"
        do throws(Failure) {
            try ServerCommand.run(
                runAs + [
                    "\(binaries)/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C", "--no-instructions", "--no-sync",
                ],
                in: directory, timeout: timeout)
            var lastLog = ""
            for _ in 0..<5 {
                let port = try freePort()
                try settings(port: port).write(toFile: data + "/postgresql.conf", append: true)
                let left = timeout - (clock.now - began)
                let seconds = max(5, Int(left.components.seconds))
                let started = Result { () throws(Failure) in
                    try ServerCommand.run(
                        runAs + [
                            "\(binaries)/pg_ctl", "-D", data, "-l", directory + "/server.log",
                            "-w", "-t", "\(seconds)", "start",
                        ], in: directory, timeout: .seconds(seconds + 5))
                }
                if case .success = started, waitUntilListening(port: port, deadline: clock.now + .seconds(10)) {
                    let cluster = PostgresCluster(
                        port: port, directory: directory, binaries: binaries, runAs: runAs,
                        startupDuration: clock.now - began)
                    cluster.startWatchdog()
                    return cluster
                }
                lastLog = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
                _ = try? ServerCommand.run(
                    runAs + ["\(binaries)/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
                    in: directory, timeout: .seconds(30))
                if clock.now - began > timeout { break }
            }
            throw Failure("PostgreSQL did not start in \(directory): \(lastLog.suffix(2_000))")
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    private init(port: Int, directory: String, binaries: String, runAs: [String], startupDuration: Duration) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
        self.runAs = runAs
        self.startupDuration = startupDuration
    }

    deinit { try? stop() }

    /// Stops the server (`pg_ctl stop -m fast`: open sessions are rolled back, the server shuts down
    /// cleanly) and deletes the directory. Stopping twice does nothing the second time.
    public func stop() throws(Failure) {
        let first = stopped.withLock { (stopped: inout Bool) -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ServerCommand.run(
            runAs + ["\(binaries)/pg_ctl", "-D", directory + "/data", "-m", "fast", "-w", "-t", "60", "stop"],
            in: directory, timeout: .seconds(70))
    }

    /// Whether ``stop()`` has run.
    public var isStopped: Bool { stopped.withLock { $0 } }

    // MARK: Databases

    /// Creates a new, empty database and returns its name (`name`, or a fresh `test_N`): one per
    /// test keeps tests that share the cluster apart.
    @discardableResult
    public func createDatabase(_ name: String? = nil) throws(Failure) -> String {
        let name = name ?? "test_\(databases.add(1, ordering: .relaxed).newValue)"
        try psql(database: "postgres", command: "CREATE DATABASE \"\(name)\"")
        return name
    }

    /// Runs SQL through `psql` (the reference client: a script of many statements, as a person
    /// would apply it), stopping at the first error. Returns what psql printed (unaligned, no
    /// headers: one line per row, columns separated by `|`).
    @discardableResult
    public func psql(database: String, command: String? = nil, file: String? = nil) throws(Failure) -> String {
        var arguments = [
            "\(binaries)/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", host, "-p", "\(port)", "-U", user, "-d", database,
        ]
        if let command { arguments += ["-c", command] }
        if let file { arguments += ["-f", file] }
        return try ServerCommand.run(arguments, in: directory, timeout: .seconds(60))
    }

    /// The database's schema as `pg_dump --schema-only` prints it (comments, settings and the
    /// `\restrict` lines with their random key that newer pg_dump releases add dropped), without the
    /// tables in `excluding`: two databases built the same way dump the same.
    public func schemaDump(database: String, excluding: [String] = []) throws(Failure) -> String {
        let arguments =
            [
                "\(binaries)/pg_dump", "--schema-only", "--no-owner", "--no-privileges",
                "-h", host, "-p", "\(port)", "-U", user, "-d", database,
            ] + excluding.flatMap { ["-T", $0] }
        return try ServerCommand.run(arguments, in: directory, timeout: .seconds(60))
            .split(separator: "\n", omittingEmptySubsequences: true)
            .filter { line in
                !["--", "SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict"].contains { line.hasPrefix($0) }
            }
            .joined(separator: "\n")
    }

    // MARK: One cluster per process

    private static let sharedCluster = Mutex<Result<PostgresCluster, Failure>?>(nil)

    /// The process's shared cluster, started by the first call (later calls wait for it, then get
    /// the same cluster or the same failure). It is stopped when the process exits.
    public static func shared() throws(Failure) -> PostgresCluster {
        try sharedCluster.withLock { (cluster: inout Result<PostgresCluster, Failure>?) throws(Failure) -> PostgresCluster in
            if let cluster { return try cluster.get() }
            let started = Result { () throws(Failure) in try PostgresCluster.start() }
            cluster = started
            if case .success = started {
                atexit { PostgresCluster.sharedCluster.withLock { try? $0?.get().stop() } }
            }
            return try started.get()
        }
    }

    // MARK: Finding and preparing

    /// The directory holding `initdb`, `pg_ctl`, `psql` and `pg_dump`: `$BGCOPY_POSTGRES_BIN` if set,
    /// else Debian's `/usr/lib/postgresql/<newest>/bin`, else the directory of an `initdb` on `PATH`
    /// (`environment` and `debianRoot` are parameters so a test can see the missing case).
    ///
    /// - Throws: ``Failure`` naming the package to install when none is found.
    public static func binDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment, debianRoot: String = PostgresCluster.debianRoot
    ) throws(Failure) -> String {
        let fileManager = FileManager.default
        var candidates: [String] = []
        if let configured = environment["BGCOPY_POSTGRES_BIN"] { candidates.append(configured) }
        let versions = ((try? fileManager.contentsOfDirectory(atPath: debianRoot)) ?? []).compactMap(Int.init).sorted(by: >)
        candidates += versions.map { "\(debianRoot)/\($0)/bin" }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let needed = ["initdb", "pg_ctl", "psql", "pg_dump"]
        if let found = candidates.first(where: { directory in needed.allSatisfy { fileManager.isExecutableFile(atPath: "\(directory)/\($0)") } }) {
            return found
        }
        throw Failure(
            """
            PostgreSQL server programs (initdb, pg_ctl) not found in $BGCOPY_POSTGRES_BIN, \(debianRoot)/*/bin or PATH. \
            Install Debian's package: apt-get install -y --no-install-recommends postgresql \
            (macOS: brew install postgresql@16); .ci/run does this on CI.
            """)
    }

    /// What is appended to the new cluster's `postgresql.conf` (the last setting of a name wins,
    /// so a retry on another port simply appends again).
    static func settings(port: Int) -> String {
        """

        # BackgroundCopyTesting.PostgresCluster: a throwaway test server.
        listen_addresses = '127.0.0.1'
        port = \(port)
        unix_socket_directories = ''
        max_connections = 100
        fsync = on
        synchronous_commit = on
        full_page_writes = on
        wal_level = minimal
        max_wal_senders = 0
        autovacuum = off
        jit = off
        shared_buffers = 32MB
        log_min_messages = warning
        log_min_error_statement = panic

        """
    }

    private static func makeDirectory(ownedByNobody: Bool) throws(Failure) -> String {
        var template = Array((NSTemporaryDirectory() + "/bgcopy-postgres.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure("could not create a temporary directory: errno \(errno)") }
        let directory = String(cString: made)
        // The directory is the cluster's own: owned by the server's user, reachable by no one else.
        if ownedByNobody {
            guard let nobody = getpwnam("nobody"), chown(directory, nobody.pointee.pw_uid, nobody.pointee.pw_gid) == 0 else {
                try? FileManager.default.removeItem(atPath: directory)
                throw Failure("could not give \(directory) to the user nobody (errno \(errno)); root runs the server as nobody")
            }
        }
        return directory
    }

    /// Stops the server and deletes the directory once this process has exited, in case it exits
    /// without ``stop()`` (killed, crashed). It ends by itself once the directory is gone.
    private func startWatchdog() {
        let script = """
            pid=$1; dir=$2; shift 2
            alive() { [ -d "/proc/$pid" ] || kill -0 "$pid" 2>/dev/null; }
            while alive && [ -d "$dir" ]; do sleep 1; done
            if [ -d "$dir" ]; then "$@"; rm -rf "$dir"; fi
            """
        let stop = runAs + ["\(binaries)/pg_ctl", "-D", directory + "/data", "-m", "fast", "-w", "stop"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "sh", "\(getpid())", directory] + stop
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()  // without a watchdog only a crashed test run would leave the server behind
    }
}

extension String {
    fileprivate func write(toFile path: String, append: Bool) throws(PostgresCluster.Failure) {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw PostgresCluster.Failure("cannot open \(path)") }
        defer { try? handle.close() }
        do {
            if append { try handle.seekToEnd() }
            try handle.write(contentsOf: Data(utf8))
        } catch {
            throw PostgresCluster.Failure("cannot write \(path): \(error)")
        }
    }
}
