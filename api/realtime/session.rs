// The socket actor: see below.
