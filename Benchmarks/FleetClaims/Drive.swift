/// Runs a row's engines together for a fixed time and counts the cycles they finish.
///
/// Every engine first does its own setup (opens its queue or connection), then waits for the
/// common start, so connecting is never timed; a cycle counts when it finishes before the end.
enum Drive {
    /// Runs `engines` copies of `engine` at once; returns the cycles they finished in the window
    /// and what `observe` made of the same window.
    static func run<Observation: Sendable>(
        engines: Int, seconds: Int,
        observe: @escaping @Sendable (Window) async throws -> Observation,
        engine: @escaping @Sendable (_ index: Int, Window) async throws -> Int
    ) async throws -> (cycles: Int, observation: Observation) {
        let start = ContinuousClock.now + .seconds(2)
        let window = Window(start: start, end: start + .seconds(seconds))
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<engines { group.addTask { try await engine(index, window) } }
            let observation = try await observe(window)
            var cycles = 0
            for try await finished in group { cycles += finished }
            return (cycles, observation)
        }
    }
}

/// The measured interval of one row.
struct Window: Sendable {
    let start: ContinuousClock.Instant
    let end: ContinuousClock.Instant

    /// Waits for the start, then runs `cycle` until the end; returns how many finished in time.
    /// - Throws: ``DryQueue`` when `cycle` finds nothing left to claim (the backlog was too small).
    func count(_ cycle: () async throws -> Bool) async throws -> Int {
        try await Task.sleep(until: start)
        var finished = 0
        while ContinuousClock.now < end {
            guard try await cycle() else { throw DryQueue() }
            if ContinuousClock.now <= end { finished += 1 }
        }
        return finished
    }
}

/// A row ran out of queued files before its time was up: run it with a larger `--files`.
struct DryQueue: Error, CustomStringConvertible {
    var description: String { "the queue ran dry during a row: run again with a larger --files" }
}
