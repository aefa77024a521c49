import BackgroundCopy

extension Workload {
    /// Four callers at once, two blocking and two `async`, so their calls share group-commit
    /// batches and power loss, kills and faults land mid-batch. Each creates a group and a job,
    /// adds two files, has a batch refused part-way (its third local path is a live file of the
    /// group made first, so the rows of the first two are inserted before the call throws), sets
    /// its group's properties, resumes it, and then cancels it or sets its properties again.
    static let concurrent = Workload(name: "concurrent", racing: true, seedDivisor: 8) { ctx in
        let held = try ctx.source("held.bin", size: 3000, seed: 90)
        let sources = try (0..<callers.count).map { caller in
            try (0..<3).map { try ctx.source("w\(caller)-\($0).bin", size: 1000 + 700 * $0, seed: UInt8(91 + 3 * caller + $0)) }
        }
        try ctx.open()
        let first = try ctx.createGroup(20)
        try await ctx.add([(ctx.local("held.bin"), held)], to: try first.createJob())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (number, caller) in callers.enumerated() {
                group.addTask {
                    try await calls(of: caller, number: number, ctx, sources: sources[number], taken: (ctx.local("held.bin"), held))
                }
            }
            try await group.waitForAll()
        }
    }

    /// The concurrent workload's callers: an even one ends by setting its properties again, an odd
    /// one by cancelling its group.
    private static let callers: [Caller] = [.blocking, .async, .async, .blocking]

    private static func calls(
        of caller: Caller, number: Int, _ ctx: WorkloadContext, sources: [String],
        taken: (local: String, source: String)
    ) async throws {
        let local = { (index: Int) in ctx.local("w\(number)-\(index).bin") }
        let group = try await ctx.createGroup(21 + number, by: caller)
        let job = try await caller.call(
            { () throws(QueueError) in try group.createJob() },
            { () async throws(QueueError) in try await group.createJob() })
        try await ctx.add([(local(0), sources[0]), (local(1), sources[1])], to: job, by: caller)
        try await ctx.addRefused([(local(2), sources[2]), (local(3), sources[0]), taken], to: job, by: caller)
        try await ctx.setProperties(of: group, version: 1, by: caller)
        try await ctx.resume(group, by: caller)
        if number.isMultiple(of: 2) {
            try await ctx.setProperties(of: group, version: 2, by: caller)
        } else {
            try await ctx.cancel(group, by: caller)
        }
    }
}
