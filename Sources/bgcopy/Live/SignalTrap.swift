import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Catches SIGINT (Ctrl-C) and SIGTERM through dispatch signal sources, so a live command can
/// stop cleanly: the first signal runs the registered handlers (which cancel the engine task) and
/// is remembered for the exit status; a second one (Ctrl-C twice, or `timeout` signalling the
/// process and its group) exits at once, after printing the farewell lines the command left — its
/// summary so far — and, on a terminal only, showing the cursor again.
final class SignalTrap: Sendable {
    private struct State {
        var caught: Int32?
        var handlers: [@Sendable () -> Void] = []
        var farewell: [String] = []
    }

    private let state = Mutex(State())
    // Dispatch sources are thread-safe objects; they are only created here and cancelled in `restore()`.
    private nonisolated(unsafe) let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for (number, source) in zip(signals, sources) {
            source.setEventHandler { [weak self] in self?.fire(number) }
            source.resume()
        }
    }

    /// The signal caught, if any.
    var caught: Int32? { state.withLock { $0.caught } }

    /// The exit status for the signal caught: 130 for SIGINT, 143 for SIGTERM.
    var exitStatus: ExitStatus? {
        caught.map { $0 == SIGTERM ? .terminated : .interrupted }
    }

    /// Runs `handler` when the first signal arrives (at once if one already has).
    func onSignal(_ handler: @escaping @Sendable () -> Void) {
        let already = state.withLock { state in
            state.handlers.append(handler)
            return state.caught != nil
        }
        if already { handler() }
    }

    /// Sets the lines printed if a second signal forces the exit.
    func setFarewell(_ lines: [String]) {
        state.withLock { $0.farewell = lines }
    }

    /// Puts the default signal handling back.
    func restore() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    private func fire(_ number: Int32) {
        let (handlers, farewell) = state.withLock { state -> ([@Sendable () -> Void]?, [String]) in
            guard state.caught == nil else { return (nil, state.farewell) }
            state.caught = number
            return (state.handlers, [])
        }
        guard let handlers else {
            if Console.isTerminal { Console.write(Terminal.showCursor + "\n") }
            farewell.forEach(Console.line)
            exit(number == SIGTERM ? ExitStatus.terminated.rawValue : ExitStatus.interrupted.rawValue)
        }
        handlers.forEach { $0() }
    }
}
