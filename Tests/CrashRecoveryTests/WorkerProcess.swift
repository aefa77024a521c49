import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One run of the `CrashWorker` executable: its exit status (or the signal that ended it) and its
/// standard output. Output goes to a file, never a pipe, so a long sweep cannot block on it.
struct WorkerRun: Sendable {
    let status: Int32
    let signal: Int32?
    let output: String

    var lines: [Substring] { output.split(separator: "\n") }
}

enum WorkerProcess {
    /// The `CrashWorker` of this build: beside the test bundle, else `.build/debug` above this file.
    static let binary: String = {
        var directories = [
            Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ]
        var up = URL(fileURLWithPath: #filePath)
        while up.pathComponents.count > 1 {
            up.deleteLastPathComponent()
            directories.append(up.appending(path: ".build/debug"))
        }
        return directories.map { $0.appending(path: "CrashWorker").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "CrashWorker-not-built"
    }()

    /// Runs the worker to its end; with `killAfter`, sends it SIGKILL after that long.
    static func run(_ arguments: [String], environment: [String: String] = [:], killAfter: Duration? = nil) async throws -> WorkerRun {
        let output = NSTemporaryDirectory() + "crash-worker-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, binary, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        let child = pid
        let killer = killAfter.map { delay in
            Task {
                try? await Task.sleep(for: delay)
                if !Task.isCancelled { kill(child, SIGKILL) }
            }
        }
        let raw = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        killer?.cancel()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let signal = raw & 0x7f
        return WorkerRun(status: signal == 0 ? (raw >> 8) & 0xff : -1, signal: signal == 0 ? nil : signal, output: text)
    }
}
