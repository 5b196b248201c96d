"""What both HTTP apps share: the error mapping, authentication, health."""
