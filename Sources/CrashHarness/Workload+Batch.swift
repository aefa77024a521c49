import BackgroundCopy
import Foundation

extension Workload {
    /// One group of 24 small files (1–8 KiB), half in the queue directory and half in a folder
    /// inside it, eight in flight at once as the engine runs them with `maxFilesPerGroup` 8: their
    /// claims, checkpoints and completions share group-commit batches, and renames into one
    /// directory share its fsyncs, so power loss and kills land between one file's claim and its
    /// `complete` while others are mid-way. Completions are acknowledged as they are read back,
    /// each time a file starts, so the crashes that follow test them. Racing: which steps share a
    /// batch varies from run to run. A run passes about 135 durability points and 800 mutating
    /// calls, six and two and a half times the concurrent workload's: it takes a fourth of that
    /// one's seeds (8 of 240), and its faults and kills land at every fourth call.
    static let batch = Workload(name: "batch", racing: true, seedDivisor: 30, callStride: 4) { ctx in
        ctx.configuration.maxFilesPerGroup = 8
        ctx.configuration.maxConcurrentTransfers = 8
        try FileManager.default.createDirectory(atPath: ctx.local(batchFolder), withIntermediateDirectories: true)
        let pairs = try (0..<24).map { index in
            let name = "b\(index).bin"
            let source = try ctx.source(name, size: 1024 + (index * 2917) % 7169, seed: UInt8(100 + index))
            return (ctx.local(index.isMultiple(of: 2) ? name : "\(batchFolder)/\(name)"), source)
        }
        try ctx.open()
        let group = try ctx.createGroup(30)
        try await ctx.add(pairs, to: try group.createJob())
        try ctx.resume(group)
        ctx.beforeChunk = { _, offset in
            if offset == 0 { ctx.acknowledgeCompletionsSoFar() }
        }
        try await ctx.transferInFlight()
    }

    /// The folder inside the queue directory that holds half of the batch workload's files; it
    /// exists before the trial, as a destination folder would.
    private static let batchFolder = "batch"
}

extension WorkloadContext {
    /// Transfers with files in flight at once, within the configuration's limits
    /// (`QueueManager.transferFiles`), until nothing can be claimed; then acknowledges every file
    /// the library reports complete. At most `limit` files are started.
    func transferInFlight(limit: Int = 256) async throws(QueueError) {
        let transports = ["file": SteppedTransport(chunk: 1024, hook: beforeChunk)]
        _ = try await queue().transferFiles(limit: limit, transports: transports)
        try acknowledgeCompletions()
    }

    /// Acknowledges the files the library reports complete at this moment, from a hook while
    /// files transfer. A read that fails (the power went out) acknowledges nothing; one that
    /// succeeds sees only commits that were durable, so what it finds must survive.
    func acknowledgeCompletionsSoFar() {
        try? acknowledgeCompletions()
    }
}
