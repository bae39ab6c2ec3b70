# Plain-Python parts of the add-on: the provider gateways, the call-flow engine, rating.
