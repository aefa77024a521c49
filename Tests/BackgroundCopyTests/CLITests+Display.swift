import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("CLI: the live display on a terminal", .alone)
struct CLIDisplayTests {
    /// Runs Tests/tmux/run-display.sh: `bgcopy run` in a tmux pane draws its bars, stops on
    /// Ctrl-C with 130, and the next run finishes the file with a summary.
    @Test func runDrawsProgressBarsInATerminalStopsOnCtrlCAndResumes() async throws {
        let scratch = Scratch()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "tmux/run-display.sh").path
        let result = try await CLIProcess(executable: "/bin/bash", [script, CLI.binary, scratch.path("display")], scratch: scratch)
            .finish(timeout: .seconds(120))
        let status = result.status
        let output = result.stdout + result.stderr
        #expect(status == 0, "run-display.sh failed:\n\(output)")
    }
}
