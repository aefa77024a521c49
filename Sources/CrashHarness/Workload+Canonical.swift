import BackgroundCopy
import Foundation

extension Workload {
    /// Create a group, add two files, resume, download, complete. The one workload that creates
    /// its queue in the trial (the others copy a template): crashes while the database is created,
    /// switched to WAL and migrated fall here.
    static let basic = Workload(name: "basic") { ctx in
        let a = try ctx.source("a.bin", size: 9000, seed: 1), b = try ctx.source("b.bin", size: 3000, seed: 2)
        try ctx.open(template: false)
        let group = try ctx.createGroup(1)
        try await ctx.add([(ctx.local("a.bin"), a), (ctx.local("b.bin"), b)], to: try group.createJob())
        try ctx.resume(group)
        try await ctx.transfer()
    }

    /// One job of four files, transferred in order.
    static let multiFile = Workload(name: "multi-file") { ctx in
        let sizes = [5000, 100, 12000, 1]
        let pairs = try sizes.enumerated().map { index, size in
            (ctx.local("m\(index).bin"), try ctx.source("m\(index).bin", size: size, seed: UInt8(index + 3)))
        }
        try ctx.open()
        let group = try ctx.createGroup(2, priority: .high)
        try await ctx.add(pairs, to: try group.createJob())
        try ctx.resume(group)
        try await ctx.transfer()
    }

    /// Suspended mid-file, then resumed: the file continues from its last checkpoint.
    static let suspendResume = Workload(name: "suspend-resume") { ctx in
        let source = try ctx.source("s.bin", size: 14000, seed: 7)
        try ctx.open()
        let group = try ctx.createGroup(3)
        try await ctx.add([(ctx.local("s.bin"), source)], to: try group.createJob())
        try ctx.resume(group)
        ctx.beforeChunk = { _, offset in
            if offset == 9216 { ctx.fromHook { () throws(QueueError) in try ctx.suspend(group) } }
        }
        try await ctx.transfer()
        ctx.beforeChunk = nil
        try ctx.resume(group)
        try await ctx.transfer()
    }

    /// Cancel a group holding a complete, a partial and an untouched file.
    static let cancelMix = Workload(name: "cancel-mix") { ctx in
        let sources = try (0..<3).map { try ctx.source("c\($0).bin", size: 8000, seed: UInt8(10 + $0)) }
        try ctx.open()
        let group = try ctx.createGroup(4)
        try ctx.add(sources.enumerated().map { (ctx.local("c\($0.offset).bin"), $0.element) }, to: try await group.createJob())
        try ctx.resume(group)
        try await ctx.transfer(limit: 1)
        ctx.beforeChunk = { source, offset in
            if source.hasSuffix("/c1.bin"), offset == 5120 { ctx.fromHook { () throws(QueueError) in try ctx.suspend(group) } }
        }
        try await ctx.transfer()
        // The hook holds the context: left set, the two would keep each other (and the queue) alive.
        ctx.beforeChunk = nil
        try ctx.cancel(group)
    }

    /// The group is cancelled while its file is finalizing (between the intent and the rename).
    static let cancelWhileFinalizing = Workload(name: "cancel-finalizing") { ctx in
        let a = try ctx.source("f0.bin", size: 6000, seed: 20), b = try ctx.source("f1.bin", size: 6000, seed: 21)
        try ctx.open()
        let group = try ctx.createGroup(5)
        try await ctx.add([(ctx.local("f0.bin"), a), (ctx.local("f1.bin"), b)], to: try group.createJob())
        try ctx.resume(group)
        ctx.fileSystem.onRename { destination in
            guard destination.hasSuffix("/f1.bin") else { return }
            ctx.fileSystem.onRename(nil)  // once: the cancel's own clean-up renames f1 too
            ctx.fromHook { () throws(QueueError) in try ctx.cancel(group) }
        }
        try await ctx.transfer()
        ctx.fileSystem.onRename(nil)
    }

    /// The source changes while its file is suspended mid-way: the resumed file starts over.
    static let sourceChanged = Workload(name: "source-changed") { ctx in
        let source = try ctx.source("e.bin", size: 12000, seed: 30)
        try ctx.open()
        let group = try ctx.createGroup(6)
        try await ctx.add([(ctx.local("e.bin"), source)], to: try group.createJob())
        try ctx.resume(group)
        ctx.beforeChunk = { _, offset in
            if offset == 6144 { ctx.fromHook { () throws(QueueError) in try ctx.suspend(group) } }
        }
        try await ctx.transfer()
        ctx.beforeChunk = nil
        try ctx.source("e.bin", size: 10000, seed: 31)
        try ctx.resume(group)
        try await ctx.transfer()
    }

    /// The disk fills up mid-file (the group goes into error); space comes back, resume completes it.
    static let diskFull = Workload(name: "disk-full") { ctx in
        let source = try ctx.source("d.bin", size: 11000, seed: 40)
        try ctx.open()
        let group = try ctx.createGroup(7)
        try await ctx.add([(ctx.local("d.bin"), source)], to: try group.createJob())
        ctx.fileSystem.limitSpace(ofTempFor: ctx.local("d.bin"), to: 6000)
        try ctx.resume(group)
        try await ctx.transfer()
        ctx.fileSystem.limitSpace(ofTempFor: ctx.local("d.bin"), to: nil)
        try ctx.resume(group)
        try await ctx.transfer()
    }

    /// Two groups whose calls interleave: one pre-empted, one job cancelled, both finishing.
    static let interleaved = Workload(name: "interleaved") { ctx in
        let sources = try (0..<4).map { try ctx.source("i\($0).bin", size: 5000 + 1000 * $0, seed: UInt8(50 + $0)) }
        try ctx.open()
        let low = try ctx.createGroup(8, priority: .low)
        let high = try ctx.createGroup(9, priority: .high)
        try await ctx.add([(ctx.local("i0.bin"), sources[0])], to: try low.createJob())
        let second = try await low.createJob()
        try ctx.add([(ctx.local("i1.bin"), sources[1])], to: second)
        try await ctx.add([(ctx.local("i2.bin"), sources[2]), (ctx.local("i3.bin"), sources[3])], to: try high.createJob())
        try ctx.resume(low)
        try await ctx.transfer(limit: 1)
        try ctx.resume(high)
        try ctx.cancel(second, of: low)
        try await ctx.transfer()
    }

    /// The queue is closed with a file finalizing and another mid-transfer; the reopen's recovery
    /// (rename rolled forward, transfer requeued) is where the crash points fall, then all completes.
    static let recoveryInterrupted = Workload(name: "recovery") { ctx in
        let a = try ctx.source("r0.bin", size: 7000, seed: 60), b = try ctx.source("r1.bin", size: 9000, seed: 61)
        try ctx.open()
        let first = try ctx.createGroup(10, priority: .foreground)
        let second = try ctx.createGroup(11)
        try await ctx.add([(ctx.local("r0.bin"), a)], to: try first.createJob())
        try await ctx.add([(ctx.local("r1.bin"), b)], to: try second.createJob())
        try ctx.resume(first)
        try ctx.resume(second)
        let ledger = try ctx.queue().transferLedger
        if let claim = try await ledger.claimNextFile() { try ctx.writeTemp(claim, upTo: 7000, finalizing: true) }
        if let claim = try await ledger.claimNextFile() { try ctx.writeTemp(claim, upTo: 4096, finalizing: false) }
        ctx.close()
        try ctx.open()
        try await ctx.transfer()
    }
}

extension WorkloadContext {
    /// Does by hand what a worker does up to a point: creates the temp file, writes the source's
    /// first `upTo` bytes, fsyncs, commits them, and with `finalizing` records the rename intent.
    func writeTemp(_ claim: Claim, upTo bytes: Int, finalizing: Bool) throws {
        let content = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try FileTransport.path(of: claim.remote))))
        let file = try fileSystem.open(claim.tempPath, exclusive: true)
        defer { fileSystem.close(file) }
        try fileSystem.fsyncDirectory(String(claim.tempPath[..<claim.tempPath.lastIndex(of: "/")!]))
        var failure: QueueError?
        Array(content.prefix(bytes)).withUnsafeBytes { buffer in
            do throws(QueueError) { try fileSystem.write(file, buffer, at: 0) } catch { failure = error }
        }
        if let failure { throw failure }
        try fileSystem.fsync(file)
        let ledger = try queue().transferLedger
        _ = try ledger.checkpoint(claim.fileRowID, bytesDone: UInt64(bytes), bytesTotal: UInt64(content.count), validator: nil)
        if finalizing { _ = try ledger.beginFinalizing(claim.fileRowID, bytesTotal: UInt64(bytes)) }
    }
}
