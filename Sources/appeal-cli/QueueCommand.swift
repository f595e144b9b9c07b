import Appeals
import ArgumentParser

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Render and queue every missing letter of a campaign; running it again adds nothing.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "The campaign's slug.") var campaign: String

    func run() async throws {
        let config = try options.loadConfig()
        let ids = MessageIDGenerator(domain: config.sender.domain)
        let report: QueueReport
        if config.usesPostgres {
            // The run holds the campaign's turn on one connection while it writes on another.
            report = try await options.withPostgres(config, leastConnections: 2) { store throws(AppealsError) in
                try await store.queueLetters(campaign: campaign, messageIDs: ids, waiting: {
                    printWarning("another queue run of \(campaign) is writing to the database; waiting for it to finish")
                })
            }
        } else {
            let database = try options.openDatabase()
            report = try await reporting { () async throws(AppealsError) in
                try await database.queueLetters(campaign: campaign, messageIDs: ids, waiting: {
                    printWarning("another queue run is writing to \(database.path); waiting for it to finish")
                })
            }
        }
        print("queued \(plural(report.queued, "letter")) (\(report.alreadyQueued) already queued) for \(plural(report.supporters, "supporter")) of \(campaign)")
        if report.supportersWithoutEmbassy > 0 {
            print("\(plural(report.supportersWithoutEmbassy, "supporter")) \(report.supportersWithoutEmbassy == 1 ? "has" : "have") no embassy in their country: they write to the officials only")
        }
        if report.supportersWithoutConsent > 0 {
            print("\(plural(report.supportersWithoutConsent, "supporter")) did not consent: no letter is written in their name")
        }
    }
}
