import Foundation

extension Array where Element: Sendable {
    /// `map` on every core, for independent work on many elements: each core transforms its own range
    /// of the array, in order; small arrays are mapped on the calling thread.
    /// - Parameter minimumPerCore: the fewest elements worth handing to another core.
    public func concurrentMap<T: Sendable>(minimumPerCore: Int = 16, _ transform: @Sendable (Element) -> T) -> [T] {
        let parts = Swift.min(count / Swift.max(1, minimumPerCore), ProcessInfo.processInfo.activeProcessorCount)
        guard parts > 1 else { return map(transform) }
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { buffer in
            let output = UnsafeOutput(buffer: buffer)
            let chunk = (count + parts - 1) / parts
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                // Each part writes only its own range of the buffer.
                for index in (part * chunk)..<Swift.min(count, (part + 1) * chunk) {
                    output.buffer[index] = transform(self[index])
                }
            }
        }
        return results.map { $0! }
    }
}

extension Array where Element: Sendable {
    /// `map` on every core, from async code: each core's task transforms its own range of the array, on
    /// the cooperative pool (the transform must not block); small arrays are mapped in the calling task.
    /// - Parameter minimumPerCore: the fewest elements worth handing to another core.
    public func parallelMap<T: Sendable>(minimumPerCore: Int = 16, _ transform: @escaping @Sendable (Element) -> T) async -> [T] {
        let parts = Swift.min(count / Swift.max(1, minimumPerCore), ProcessInfo.processInfo.activeProcessorCount)
        guard parts > 1 else { return map(transform) }
        let chunk = (count + parts - 1) / parts
        return await withTaskGroup(of: (Int, [T]).self) { group in
            for part in 0..<parts {
                let slice = self[(part * chunk)..<Swift.min(count, (part + 1) * chunk)]
                group.addTask { (part, slice.map(transform)) }
            }
            var pieces = [[T]](repeating: [], count: parts)
            for await (part, piece) in group { pieces[part] = piece }
            return pieces.flatMap { $0 }
        }
    }
}

/// A buffer whose disjoint ranges are written by different threads.
private struct UnsafeOutput<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
}
