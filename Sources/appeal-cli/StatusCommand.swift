import Appeals
import AppealsPostgres
import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a campaign's delivery counts.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "The campaign's slug.") var campaign: String
    @Flag(help: "One JSON object (its keys are listed in docs/reference.md).") var json = false

    func run() async throws {
        let campaign = campaign
        let report = try await options.onStore(sqlite: { database throws(AppealsError) in try database.report(campaign: campaign) },
                                               postgres: { store throws(AppealsError) in try await store.report(campaign: campaign) })
        if json {
            print(report.json.text)
            return
        }
        let l = report.letters
        print("""
            campaign \(report.campaign): \(plural(report.supporters, "supporter")) (\(report.supportersWithoutEmbassy) without an embassy in their country)
            letters: \(l.queued) queued, \(l.sending) sending, \(l.sent) sent, \(l.deferred) deferred, \(l.failed) failed, \(l.cancelled) cancelled, \(l.bounced) bounced; \(plural(report.possibleDuplicates, "possible duplicate"))
            """)
        for target in report.targets {
            var line = "  \(target.kind)\t\(target.name) <\(target.email)>\tsent \(target.sent)\tfailed \(target.failed)\tpending \(target.pending)"
            if target.removed {
                line += "\tREMOVED"
            } else if target.disabled {
                line += "\tDISABLED (\(terminalSafe(target.disabledReason ?? "no reason given"))), \(target.held) held"
            }
            let b = target.bounces
            if b.mailbox + b.policy + b.rejected + b.transient > 0 {
                line += "\tbounces: \(b.mailbox) no such address, \(b.policy) refused by policy, \(b.rejected) refused, \(b.transient) temporary"
            }
            print(line)
        }
    }
}
