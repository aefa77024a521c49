import Testing
@testable import BackgroundCopy

/// ``QueueManager/changes(orEvery:)``: a wake-up per commit of this process, without waiting for
/// the interval.
@Suite("Wake-ups when the queue changes")
struct ChangesTests {
    @Test func aCommitWakesTheStreamLongBeforeItsInterval() async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let changes = manager.changes(orEvery: .seconds(3600))
        _ = try await manager.createGroup(properties: GroupProperties(displayName: "woken"))
        var woke = false
        for await _ in changes {
            woke = true
            break
        }
        #expect(woke, "the createGroup commit woke the stream; its interval is an hour")
    }
}
