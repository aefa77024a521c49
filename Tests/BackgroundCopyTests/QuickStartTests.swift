import Foundation
import Testing
import BackgroundCopy
import TestScheduling

// The README's quick start, compiled and run. The test below checks the README shows this
// function verbatim, so the two cannot drift apart.
func quickStart(in directory: String) throws(QueueError) -> GroupStatus {
    let manager = try QueueManager(path: "\(directory)/queue.sqlite")
    let group = try manager.createGroup(properties: GroupProperties(displayName: "nightly update", priority: .high))
    let job = try group.createJob()
    try job.addFiles([
        FileSpec(
            remote: "https://example.com/releases/app-2.1.tar.gz", local: "\(directory)/app-2.1.tar.gz",
            sizeHint: 48_000_000),
        FileSpec(remote: "https://example.com/releases/app-2.1.tar.gz.sig", local: "\(directory)/app-2.1.tar.gz.sig"),
    ])
    try group.resume()  // queued: the engine (manager.run()) transfers it in the background
    print(try group.progress().filesTotal, "files queued")
    return try group.status()
}

@Suite("README quick start", .alone)
struct QuickStartTests {
    @Test func quickStartRunsAndQueuesTheGroup() throws {
        let scratch = Scratch()
        let status = try quickStart(in: scratch.directory)
        #expect(status.state == .queued)
        #expect(status.flags == [.groupIncomplete])
        #expect(status.currentJobIndex == 0)
    }

    @Test func readmeShowsTheQuickStartVerbatim() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appending(path: "README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let start = try #require(source.range(of: "func quickStart("))
        let end = try #require(source.range(of: "\n}\n", range: start.upperBound..<source.endIndex))
        let function = String(source[start.lowerBound..<end.upperBound])
        #expect(readme.contains(function), "README.md must show quickStart(in:) exactly as QuickStartTests.swift has it")
    }
}
