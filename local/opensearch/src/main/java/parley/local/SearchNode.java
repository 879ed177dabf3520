package parley.local;

import java.io.IOException;

import org.codelibs.opensearch.runner.OpenSearchRunner;

/**
 * One OpenSearch node on 127.0.0.1 for the local stack.
 *
 * <p>Arguments: the base path (data and logs), the HTTP port. Prints "READY port" once the
 * cluster is yellow or better, and stops when its standard input closes, so the node never
 * outlives the Python process that started it.
 */
public final class SearchNode {
    private SearchNode() {
    }

    public static void main(final String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: SearchNode BASE_PATH HTTP_PORT");
            System.exit(2);
        }
        final String basePath = args[0];
        final String httpPort = args[1];
        final OpenSearchRunner runner = new OpenSearchRunner();
        runner.onBuild((index, settings) -> {
            settings.put("http.port", httpPort);
            settings.put("network.host", "127.0.0.1");
            settings.put("discovery.type", "single-node");
            // A developer's disk is often fuller than a server's: never turn indices read-only.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            settings.put("action.auto_create_index", false);
        }).build(OpenSearchRunner.newConfigs()
                .basePath(basePath)
                .numOfNode(1)
                .clusterName("parley-local")
                .disableESLogger());
        runner.ensureYellow();
        System.out.println("READY " + httpPort);
        System.out.flush();
        try {
            while (System.in.read() != -1) {
                // the parent holds the pipe open for as long as the node should live
            }
        } finally {
            runner.close();
            System.exit(0);
        }
    }
}
