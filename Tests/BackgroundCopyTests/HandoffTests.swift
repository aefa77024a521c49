import Testing
@testable import BackgroundCopy

/// A call handed to another thread lets go of what it captured before its caller resumes, so a
/// queue dropped by its owner closes at once, on the owner's thread, not later on a pool thread.
@Suite("Handoff: calls on other threads release their captures first")
struct HandoffTests {
    final class Captured: Sendable {}

    /// Sees whether the object a call captured is still alive.
    final class Watch {
        weak var object: Captured?

        /// A call that holds a new object, which only the call keeps alive.
        func call<T: Sendable>(returning value: T) -> @Sendable () -> T {
            let object = Captured()
            self.object = object
            return { withExtendedLifetime(object) { value } }
        }
    }

    static let rounds = 200

    @Test func aFileThreadCallReleasesWhatItCapturedBeforeItsCallerResumes() async {
        var alive = 0
        for _ in 0..<Self.rounds {
            let watch = Watch()
            _ = await FileThreads.run(watch.call(returning: 1))
            if watch.object != nil { alive += 1 }
        }
        #expect(alive == 0, "\(alive) of \(Self.rounds) calls still held their captures when the caller resumed")
    }

    @Test func anAsyncReadReleasesItsBodyBeforeItsCallerResumes() async throws {
        let f = try OperationsFixture()
        let store = f.manager.core.store
        var alive = 0
        for _ in 0..<Self.rounds {
            let watch = Watch()
            _ = try await store.read { [call = watch.call(returning: 2)] _ throws(QueueError) in call() }
            if watch.object != nil { alive += 1 }
        }
        #expect(alive == 0, "\(alive) of \(Self.rounds) reads still held their bodies when the caller resumed")
    }

    @Test func aHandoffRunsItsCallOnceAndThenHoldsNothing() {
        let watch = Watch()
        let handoff = Handoff(watch.call(returning: 7))
        #expect(watch.object != nil)
        #expect(handoff.run() == 7)
        #expect(watch.object == nil)
    }
}
