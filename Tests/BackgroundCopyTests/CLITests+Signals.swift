import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("CLI: signals while the engine runs", .alone)
struct CLISignalTests {
    @Test func twoSIGTERMsInQuickSuccessionPrintTheSummaryAndNoTerminalEscapesIntoAPipe() async throws {
        let scratch = Scratch()
        _ = try await CLIRunTests.queuedCopy(scratch, name: "slow", size: 2 << 20)
        let run = try CLI.start(["run", "--limit", "256K"], scratch)
        #expect(try await eventually(timeout: .seconds(20)) { try CLIRunTests.committed(scratch) > 0 }, "\(run.output)")

        run.terminate()
        try await Task.sleep(for: .milliseconds(20))  // two deliveries, not one coalesced signal
        run.terminate()
        let stopped = await run.finish(timeout: .seconds(10))

        #expect(stopped.status == 143, "\(stopped)")
        #expect(!stopped.stdout.contains("\u{1B}["), "no escape sequences when stdout is not a terminal: \(stopped.stdout)")
        let summary = try #require(stopped.lines.last)
        #expect(summary.hasPrefix("bgcopy: ") && summary.contains("transferred") && summary.contains("resumes"), "\(stopped)")
    }
}
