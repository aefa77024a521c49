#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// How one run of a notify command ended.
enum NotifyOutcome: Sendable, Equatable {
    /// It exited with this status.
    case exited(Int32)
    /// A signal it did not handle ended it.
    case signalled(Int32)
    /// It ran past the timeout and was killed.
    case timedOut(Duration)
    /// The engine stopped while it ran; it was stopped too and is owed again.
    case interrupted
    /// `posix_spawn` failed with this `errno` (no such program, not executable, …).
    case notStarted(Int32)

    /// The `notifyCommandFinished` event's detail after `event N: `.
    var detail: String {
        switch self {
        case .exited(let status): "exit \(status)"
        case .signalled(let signal): "signal \(signal)"
        case .timedOut(let timeout): "timed out after \(timeout), killed"
        case .interrupted: "interrupted"
        case .notStarted(let error): "did not start: \(String(cString: strerror(error))) (errno \(error))"
        }
    }
}

/// One child process of a notify command: started with `posix_spawn` (never a shell) in a process
/// group of its own, with stdin, stdout and stderr on `/dev/null`, no other inherited descriptor
/// where the platform can close them, and default signal handling; waited for by a dedicated
/// thread, so neither the spawn nor the blocking wait runs on the cooperative pool.
///
/// A stop (timeout, or the engine stopping) sends SIGTERM to the process group and SIGKILL after
/// the grace period. The child is reaped only after the stop can no longer signal it (`waitid`
/// with `WNOWAIT` first), so a signal never reaches a process ID the system has handed out again.
final class NotifyProcess: Sendable {
    private enum Phase {
        case starting
        case running(pid_t)
        case exited
    }

    private struct State {
        var phase = Phase.starting
        var stopReason: NotifyOutcome?
    }

    private enum Ending: Sendable {
        case notStarted(Int32)
        case status(Int32)
    }

    private let state = Mutex(State())

    private init() {}

    /// Runs `argv` (an absolute program path first) with `environment` until it ends, `timeout`
    /// passes, or the calling task is cancelled (then ``NotifyOutcome/interrupted``).
    static func run(
        _ argv: [String], environment: [String: String], timeout: Duration,
        grace: Duration = .seconds(2)
    ) async -> NotifyOutcome {
        let process = NotifyProcess()
        let watchdog = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            process.stop(because: .timedOut(timeout), grace: grace)
        }
        let ending = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Ending, Never>) in
                let thread = Thread { continuation.resume(returning: process.spawnAndWait(argv, environment)) }
                thread.name = "bgcopy-notify-command"
                thread.start()
            }
        } onCancel: {
            process.stop(because: .interrupted, grace: grace)
        }
        watchdog.cancel()
        switch ending {
        case .notStarted(let error): return .notStarted(error)
        case .status(let status):
            if let reason = process.state.withLock({ $0.stopReason }) { return reason }
            let signal = status & 0x7F
            return signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
        }
    }

    /// Sends SIGTERM now and SIGKILL after `grace`, unless it was stopped already or has ended.
    private func stop(because reason: NotifyOutcome, grace: Duration) {
        let first = state.withLock { state -> Bool in
            if case .exited = state.phase { return false }
            guard state.stopReason == nil else { return false }
            state.stopReason = reason
            return true
        }
        guard first else { return }
        signal(SIGTERM)
        Task {
            try? await Task.sleep(for: grace)  // never cancelled: the SIGKILL must follow the grace period
            self.signal(SIGKILL)
        }
    }

    /// Signals the process group while the child is not yet reaped.
    private func signal(_ signal: Int32) {
        state.withLock { state in
            if case .running(let pid) = state.phase { _ = kill(-pid, signal) }
        }
    }

    /// Blocking: spawns the child and waits for it. Runs on the dedicated thread.
    private func spawnAndWait(_ argv: [String], _ environment: [String: String]) -> Ending {
        var pid: pid_t = 0
        let result = Self.spawn(&pid, argv, environment)
        guard result == 0 else {
            state.withLock { $0.phase = .exited }
            return .notStarted(result)
        }
        let stoppedMeanwhile = state.withLock { state -> Bool in
            state.phase = .running(pid)
            return state.stopReason != nil
        }
        if stoppedMeanwhile { signal(SIGTERM) }
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        state.withLock { $0.phase = .exited }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return .status(status)
    }

    /// `posix_spawn` with the file actions and attributes described above; returns its result.
    private static func spawn(_ pid: inout pid_t, _ argv: [String], _ environment: [String: String]) -> Int32 {
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
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var flags = Int32(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #else
        if let closeFrom = closeFrom { _ = closeFrom(&actions, 3) }
        #endif
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        return posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
    }

    #if !canImport(Darwin)
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time:
    /// Swift's Glibc module does not declare it, and older C libraries lack it (then descriptors
    /// the host opened without `O_CLOEXEC` stay open in the command).
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
    #endif
}
