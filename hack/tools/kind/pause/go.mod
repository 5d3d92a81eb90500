module bouncer.dev/hack/tools/kind/pause

go 1.25.0
