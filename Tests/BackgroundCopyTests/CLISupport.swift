import Foundation
import Synchronization
import Testing
@testable import BackgroundCopy

/// What one run of the `bgcopy` binary left behind.
struct CLIResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// stdout parsed as JSON (an array or an object).
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
    }

    /// stdout as a JSON array of objects.
    func objects() throws -> [[String: Any]] {
        guard let array = try json() as? [[String: Any]] else { throw CLIFailure("not a JSON array of objects: \(stdout)") }
        return array
    }

    /// stdout as one JSON object.
    func object() throws -> [String: Any] {
        guard let object = try json() as? [String: Any] else { throw CLIFailure("not a JSON object: \(stdout)") }
        return object
    }

    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A child process started by a test with `posix_spawn`: its output goes to files (never pipes,
/// which could fill up and block it), its signal mask and SIGINT/SIGTERM handling are reset to
/// the defaults, and a dispatch thread (not the cooperative pool) waits for it with `waitpid`.
/// Foundation's `Process` is not used: its SIGCHLD handling lost terminations when many tests
/// ran children at once.
final class CLIProcess: Sendable {
    private let pid: pid_t
    private let outPath: String
    private let errPath: String
    private let ended: Task<Int32, Never>
    /// Set once `waitpid` reaped the process: its pid may then belong to another one.
    private let reaped = Reaped()

    init(
        executable: String, _ arguments: [String], scratch: Scratch, environment: [String: String] = [:],
        stdin: String? = nil, directory: String? = nil
    ) throws {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "BGCOPY_DB")
        env.removeValue(forKey: "XDG_DATA_HOME")
        env["HOME"] = scratch.directory
        for (key, value) in environment { env[key] = value.isEmpty ? nil : value }
        var argv = [executable] + arguments
        var path = executable
        if let directory {  // posix_spawn has no portable chdir: let the shell change directory
            path = "/bin/sh"
            argv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + argv
        }
        let stamp = UUID().uuidString.prefix(8)
        outPath = scratch.path(".cli-\(stamp).out")
        errPath = scratch.path(".cli-\(stamp).err")
        let inPath = scratch.path(".cli-\(stamp).in")
        _ = FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, cArguments, cEnvironment)
        guard result == 0 else { throw CLIFailure("cannot start \(path): \(String(cString: strerror(result)))") }
        self.pid = pid
        let child = pid
        let reaped = reaped
        ended = Task {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    var status: Int32 = 0
                    while waitpid(child, &status, 0) == -1 && errno == EINTR {}
                    reaped.set()
                    let signal = status & 0x7F
                    continuation.resume(returning: signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
                }
            }
        }
    }

    /// What the process has written to stdout so far.
    var output: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }

    /// Sends SIGINT, as Ctrl-C would.
    func interrupt() { kill(pid, SIGINT) }

    /// Sends SIGTERM, as `kill` or `timeout` would.
    func terminate() { kill(pid, SIGTERM) }

    /// Sends `number` (SIGKILL, SIGSTOP, SIGCONT, …), unless the process was already reaped.
    func signal(_ number: Int32) {
        if !reaped.isSet { kill(pid, number) }
    }

    /// What the process has written to stderr so far.
    var errors: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit (killing it after `timeout`) and returns what it left.
    func finish(timeout: Duration = .seconds(60)) async -> CLIResult {
        let watchdog = Task { [pid] in
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        let status = await ended.value
        watchdog.cancel()
        return CLIResult(
            status: status, stdout: output,
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}

/// Whether a child process was reaped.
final class Reaped: Sendable {
    private let flag = Atomic(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }

    func set() { flag.store(true, ordering: .releasing) }
}

/// Runs the built `bgcopy` binary.
enum CLI {
    /// The `bgcopy` executable of this build: beside the test bundle, else `.build/debug/bgcopy`
    /// above this source file.
    static let binary = executable("bgcopy")

    /// The `QueueExerciser` test-support executable of this build, found as ``binary`` is.
    static let exerciser = executable("QueueExerciser")

    /// The executable `name` of this build: beside the test bundle, else in `.build/debug` above
    /// this source file.
    private static func executable(_ name: String) -> String {
        let fileManager = FileManager.default
        var directories = [
            Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ]
        var up = URL(fileURLWithPath: #filePath)
        while up.pathComponents.count > 1 {
            up.deleteLastPathComponent()
            directories.append(up.appending(path: ".build/debug"))
        }
        for directory in directories {
            let candidate = directory.appending(path: name).path
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "\(name)-not-built"
    }

    /// Runs `bgcopy ARGUMENTS --db <scratch database>` (no `--db` when `db` is false) to completion.
    static func run(
        _ arguments: [String], _ scratch: Scratch, db: Bool = true, environment: [String: String] = [:],
        stdin: String? = nil, directory: String? = nil, timeout: Duration = .seconds(60)
    ) async throws -> CLIResult {
        try await start(arguments, scratch, db: db, environment: environment, stdin: stdin, directory: directory)
            .finish(timeout: timeout)
    }

    /// Starts `bgcopy ARGUMENTS --db <scratch database>` (or another `executable` of this build)
    /// and returns at once.
    static func start(
        _ arguments: [String], _ scratch: Scratch, db: Bool = true, environment: [String: String] = [:],
        stdin: String? = nil, directory: String? = nil, executable: String = binary
    ) throws -> CLIProcess {
        try CLIProcess(
            executable: executable, arguments + (db ? ["--db", scratch.database] : []), scratch: scratch,
            environment: environment, stdin: stdin, directory: directory)
    }

    /// Runs a command that must succeed and returns its stdout, trimmed.
    @discardableResult
    static func ok(_ arguments: [String], _ scratch: Scratch, stdin: String? = nil) async throws -> String {
        let result = try await run(arguments, scratch, stdin: stdin)
        guard result.status == 0 else { throw CLIFailure("bgcopy \(arguments.joined(separator: " ")) failed: \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates a group through the CLI and returns its ID.
    static func createGroup(_ name: String, _ scratch: Scratch, _ extra: [String] = []) async throws -> String {
        try await ok(["create", name] + extra, scratch)
    }

    /// The group's `info --json` object.
    static func info(_ group: String, _ scratch: Scratch) async throws -> [String: Any] {
        let result = try await run(["info", group, "--json"], scratch)
        guard result.status == 0 else { throw CLIFailure("info failed: \(result)") }
        return try result.object()
    }
}
