// Redis broker: see below.
